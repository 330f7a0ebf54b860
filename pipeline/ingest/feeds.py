"""Stage 1, poll: one feed's bytes -> typed entries.

1. GET the feed with its stored validators (conditional GET; 304 costs nothing).
2. Decode: BOM, then the HTTP charset, then the XML declaration, then UTF-8;
   the first that decodes strictly wins. A feed whose declaration is missing
   or wrong is detected with charset_normalizer (the choice is recorded in
   ``bozo``); bytes no encoding fits are a FeedError("encoding"). The text is
   handed on as UTF-8, so feedparser's own fallback (windows-1252 for
   everything, which turns Hebrew into mojibake) never guesses.
3. Parse the *bytes* with the response headers (feedparser given a string may
   open files or URLs; given bytes it only parses). feedparser drops DOCTYPE
   entity declarations before parsing, so entity bombs and external entities
   (XXE) stay unexpanded text: tests/data/feeds pins that.
4. Turn entries into ``FeedEntry`` records: canonical http(s) link, GUID,
   clean title, a UTC date or None. Entries that cannot become an article are
   counted, never silently lost: the count is stored with the poll.
Any failure becomes a ``PollResult`` with an error reason; this stage never raises
for a bad feed, because one broken feed must not stop the others.
"""

from __future__ import annotations

import calendar
import codecs
import io
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from pipeline.errors import FeedError, FetchError, HTTPStatusError, Stopped
from pipeline.ingest.fetch import Fetcher, permanent_location
from pipeline.ingest.urls import canonical_url, fetch_url
from storage.records import FeedEntry, FeedState, PollResult

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_URL_DROPPED = re.compile(r"[\t\n\r]")
MAX_TITLE = 1000
MAX_GUID = 2000
MAX_URL = 4000
_XML_DECL_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_XML_DECL_ENCODING_STR = re.compile(r"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*["'])[A-Za-z0-9._:-]+""")
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
         (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
# windows-1252 is what browsers assume for undeclared Western text; a detector
# cannot tell it from its Baltic and Central European cousins on a short feed,
# so it wins whenever it is (almost) as plausible as the detector's first pick.
_WESTERN_DEFAULT = "cp1252"
_WESTERN_SLACK = 0.05
# A feed date this far ahead is a publisher's clock or time-zone bug, not news
# from the future; it is dropped (the page's own date may fill it later).
FUTURE_TOLERANCE = timedelta(days=1)


def clean_text(value: Any, limit: int) -> str | None:
    """Collapse whitespace, drop control characters, cap the length."""
    if not isinstance(value, str):
        return None
    value = " ".join(_CONTROL.sub(" ", value).split())
    return value[:limit] or None


def _codec(label: str | bytes | None) -> str | None:
    if not label:
        return None
    name = label.decode("ascii", "ignore") if isinstance(label, bytes) else label
    try:
        return codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None  # an unknown label is as good as none: fall through


def _declared(body: bytes, headers: dict[str, str]) -> list[str]:
    """Encodings the document and its response claim, strongest first (RFC 7303 order)."""
    boms = [codec for bom, codec in _BOMS if body.startswith(bom)][:1]
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    http = _HTTP_CHARSET.search(ctype)
    decl = _XML_DECL_ENCODING.match(body[:1024])
    found = [_codec(http.group(1) if http else None), _codec(decl.group(1) if decl else None)]
    return boms + [c for c in found if c]


def _detect(body: bytes) -> str | None:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(body))
    if not matches:
        return None
    western = next((m for m in matches if m.encoding == _WESTERN_DEFAULT), None)
    if western is not None and western.chaos <= matches[0].chaos + _WESTERN_SLACK:
        return western.encoding
    return matches[0].encoding


def decode_feed(body: bytes, headers: dict[str, str]) -> tuple[bytes, str | None]:
    """Feed bytes -> (the same document as UTF-8, a note when the encoding was guessed).

    Raises FeedError(reason="encoding") when no encoding fits the bytes.
    """
    declared = _declared(body, headers)
    note = None
    for codec in [*declared, "utf-8"]:
        try:
            text = body.decode(codec)
            break
        except UnicodeDecodeError:
            continue  # a wrong declaration is common; try the next source
    else:
        guess = _detect(body)
        if guess is None:
            raise FeedError("feed bytes match no known text encoding", reason="encoding")
        text = body.decode(guess)
        claimed = f"declared {declared[0]} does not fit" if declared else "undeclared, not UTF-8"
        note = f"encoding: {claimed}; detected {guess}"
    text = _XML_DECL_ENCODING_STR.sub(r"\g<1>utf-8", text.lstrip("\ufeff"), count=1)
    return text.encode("utf-8"), note


def _as_utf8(headers: dict[str, str]) -> dict[str, str]:
    """The response headers with the charset replaced: the body is now UTF-8."""
    plain = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    media = ctype.split(";")[0].strip() or "application/xml"
    return {**plain, "content-type": f"{media}; charset=utf-8"}


def entry_date(entry: Any, now: datetime) -> datetime | None:
    """The entry's date as naive UTC; None when missing, unparseable, absurd or future."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if not parsed:
            continue
        try:
            when = datetime.fromtimestamp(calendar.timegm(parsed), UTC).replace(tzinfo=None)
        except (OverflowError, ValueError, TypeError):
            continue
        if when > now + FUTURE_TOLERANCE or when.year < 1990:
            return None
        return when
    return None


def entry_link(entry: Any, base: str) -> str | None:
    """The article URL of an entry: link, else an alternate link, else a permalink GUID."""
    candidates = [entry.get("link")]
    candidates += [
        link.get("href") for link in entry.get("links", []) if link.get("rel") == "alternate"
    ]
    if entry.get("guidislink") or str(entry.get("id", "")).startswith(("http://", "https://")):
        candidates.append(entry.get("id"))
    for raw in candidates:
        if not isinstance(raw, str) or not raw.strip():
            continue
        url = _usable_url(base, raw)
        if url is not None:
            return url
    return None


def _usable_url(base: str, raw: str) -> str | None:
    """``raw`` resolved against ``base`` if it is an http(s) URL we could fetch and store.

    javascript:, data:, mailto: and friends pass through feedparser; so do NUL
    bytes (PostgreSQL refuses them in text), bad IPv6 literals and ports over
    65535 (urlsplit raises on those). Tab and newline are dropped and spaces
    escaped, as browsers do (WHATWG URL); other control characters refuse the link.
    """
    text = _URL_DROPPED.sub("", raw.strip()).replace(" ", "%20")
    if _CONTROL.search(text):
        return None
    try:
        url = urljoin(base, text)
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError when out of range
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        return None
    return url


def parse_feed(
    body: bytes, headers: dict[str, str], *, feed: FeedState, base_url: str, max_entries: int,
    now: datetime | None = None,
) -> tuple[list[FeedEntry], str | None, int]:
    """Parse feed bytes into entries: (entries, bozo message, skipped count).

    Raises FeedError when the bytes are not a feed at all.
    """
    now = now or datetime.now(UTC).replace(tzinfo=None)
    utf8, note = decode_feed(body, headers)
    parsed = feedparser.parse(io.BytesIO(utf8), response_headers=_as_utf8(headers))
    bozo = note
    if parsed.get("bozo"):
        complaint = f"{type(parsed.get('bozo_exception')).__name__}: {parsed.get('bozo_exception')}"
        bozo = "; ".join(filter(None, (note, complaint)))[:500]
    entries: list[FeedEntry] = []
    skipped = max(0, len(parsed.entries) - max_entries)
    seen: set[str] = set()
    for entry in parsed.entries[:max_entries]:
        link = entry_link(entry, base_url)
        if link is None:
            skipped += 1
            continue
        canonical = canonical_url(link)
        if canonical in seen:
            continue
        seen.add(canonical)
        entries.append(
            FeedEntry(
                feed_id=feed.id,
                link=canonical,
                guid=clean_text(entry.get("id"), MAX_GUID),
                title=clean_text(entry.get("title"), MAX_TITLE),
                published=entry_date(entry, now),
                summary=clean_text(entry.get("summary"), 5000),
                raw_link=fetch_url(link),
            )
        )
    if not entries and not parsed.get("version"):
        # Nothing usable and not even recognisable as a feed (an HTML page, an empty
        # body): an error the operator sees, not an empty feed that looks healthy.
        raise FeedError(f"not a feed: {bozo or 'no RSS, Atom or RDF root element'}")
    return entries, bozo, skipped


async def poll_feed(fetcher: Fetcher, feed: FeedState, *, max_entries: int) -> PollResult:
    """GET and parse one feed; every outcome, good or bad, is a PollResult."""
    started = time.monotonic()
    try:
        page = await fetcher.get(
            feed.url, kind="feed", etag=feed.etag, last_modified=feed.last_modified
        )
    except Stopped:
        raise  # never sent: nothing happened to this feed, so nothing is recorded
    except HTTPStatusError as exc:
        return PollResult(
            feed.id, exc.status, error=exc.reason, error_detail=str(exc)[:500],
            retry_after=exc.retry_after, elapsed=time.monotonic() - started,
        )
    except FetchError as exc:
        return PollResult(
            feed.id, None, error=exc.reason, error_detail=str(exc)[:500],
            elapsed=time.monotonic() - started,
        )
    moved = permanent_location(page)
    moved_to = moved if moved and moved != feed.url else None
    common = dict(
        etag=page.etag or feed.etag, last_modified=page.last_modified or feed.last_modified,
        moved_to=moved_to, elapsed=time.monotonic() - started, size=len(page.body),
    )
    if page.status == 304:
        return PollResult(feed.id, 304, **common)
    try:
        entries, bozo, skipped = parse_feed(
            page.body, page.headers, feed=feed, base_url=page.url, max_entries=max_entries
        )
    except FeedError as exc:
        return PollResult(feed.id, page.status, error=exc.reason, error_detail=str(exc), **common)
    return PollResult(
        feed.id, page.status, entries=tuple(entries), bozo=bozo, skipped_entries=skipped, **common
    )

