"""Two URLs from one feed link: the one to fetch, and the key that de-duplicates.

``fetch_url``: the link as the feed wrote it, resolved against the feed's URL,
minus outer whitespace, the fragment (never sent to a server) and credentials
(they must not reach the database). The path and query are kept byte for
byte: a server may read ``?12345`` differently from ``?12345=``, or
``a=1;b=2`` from ``a=1%3Bb%3D2``.

``url_key`` (also ``canonical_url``): the fetch URL with the changes that
cannot alter what a server returns: scheme and host case, default port,
empty path, and well-known tracking parameters dropped (each remaining
``&``-separated parameter is kept as written, in its order). Two keys that
differ are assumed to be two pages; same-text pages under different keys are
folded later by their text hash.

courlan's ``normalize_url``/``clean_url`` are not used: they drop a bare query
(``?12345``), re-encode ``;`` and ``=``, sort parameters, and their tracker
pattern (any name with ``source``, ``ref``, ``session``, ``cid``...) would merge
distinct pages. ``scrub_url`` removes inner whitespace and rewrites ``&amp;``.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

# Parameters set by campaign tools and feed proxies, never by the page itself.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "mtm_", "hsa_", "_hs")
_TRACKING_NAMES = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
        "mkt_tok", "ncid", "ocid", "cmpid", "icid", "ito", "at_medium", "at_campaign",
        "at_custom1", "at_custom2", "at_custom3", "at_custom4", "feature", "ref_src",
        "rss", "smid", "spm", "sr_share", "__twitter_impression",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)


def fetch_url(url: str, base: str | None = None) -> str:
    """The URL to request for a feed link: the feed's bytes, resolved, no fragment."""
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        return url
    url = url.partition("#")[0]
    if "@" in parts.netloc:
        # Credentials (user:pass@) are dropped on purpose: they must not reach the database.
        start = url.index(parts.netloc)
        url = url[:start] + parts.netloc.rpartition("@")[2] + url[start + len(parts.netloc):]
    return url


def url_key(url: str) -> str:
    """The de-duplication key of an http(s) URL; other URLs come back stripped."""
    url = fetch_url(url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return url
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = "&".join(
        p for p in parts.query.split("&") if p and not _is_tracking(p.partition("=")[0])
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


# The name the poll stage and the articles.url column know: it is the key.
canonical_url = url_key
