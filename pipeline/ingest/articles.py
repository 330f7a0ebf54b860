"""Stage 3, read: page HTML -> ``Article`` (main text and metadata), via trafilatura.

Steps, each a function below:

1. ``decode``: bytes -> str. BOM, then the HTTP charset, then the document's
   own ``<meta charset>``, then strict UTF-8, then detection; the first that
   decodes without error wins. Undecodable bytes raise ReadError("encoding").
2. ``extract_text``: trafilatura twice. ``favor_precision`` drops more
   boilerplate, but on some layouts it also drops most of the article; when
   its text is much shorter than the balanced run's, the balanced run wins.
   Comments are never part of an article body.
3. ``strip_boilerplate``: short lines that are calls to action (share,
   subscribe, "Related:", copyright) and that trafilatura keeps because they
   sit inside the article element.
4. Metadata from the same trafilatura pass: title, date (UTC), authors and
   language (from the document, since trafilatura does not fill it in).

Scored on the 181-page benchmark by tests/bench/score_reader.py; the floor
is pinned by tests/test_reader_quality.py.
"""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime
from functools import cache
from typing import Any

import trafilatura
from trafilatura.settings import Document

from pipeline.errors import ReadError
from storage.records import Article


@cache
def warm_up() -> None:
    """Load, once per process, what the reader would otherwise load hours into a run.

    htmldate falls back to dateparser for fuzzy dates, and dateparser's first
    search that finds no date imports its data for every language (~200
    modules, ~10 MiB): the soak saw that as a one-time step in memory at
    minute 17. Paying it up front keeps a long-running daemon's memory flat.
    """
    detect_language("warm up the language model too: loading it takes about a second")
    try:
        import dateparser
    except ImportError:  # htmldate works without it
        return
    dateparser.parse("no date in this sentence")

# The balanced run replaces the precise one when precise keeps less than this
# share of it: a plateau on the benchmark (0.3 to 0.6 score the same).
PRECISION_KEEP_RATIO = 0.5
MIN_TEXT_CHARS = 25  # below this nothing an extractor downstream could use

_COMMON = {"include_comments": False, "include_tables": True, "deduplicate": False}
_DATE_PARAMS = {"original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
_HTML_LANG = re.compile(r"""<html\b[^>]*?\blang\s*=\s*["']?([A-Za-z]{2,3})\b""", re.I)
_BOILERPLATE = re.compile(
    r"^\W*(like this (story|article)|share (this|it)\b|subscribe\b|get the latest\b"
    r"|have a tip\b|follow (us|him|her|me)\b|click here\b|read more\b"
    r"|related( stories| articles| coverage)?\s*:|advertisement\W*$|also on \S+\.(com|org|net)\b"
    r"|tell us what you think|copyright\b|©|all rights reserved)",
    re.I,
)
_BOILERPLATE_MAX_LEN = 300  # a long line starting with "Read more" is prose
_WHATWG_ALIASES = {"iso-8859-1": "windows-1252", "latin-1": "windows-1252",
                   "ascii": "windows-1252", "us-ascii": "windows-1252"}


def _codec(name: str | bytes | None) -> str | None:
    """A Python codec name for a declared charset, or None when unknown."""
    if not name:
        return None
    label = (name.decode("ascii", "ignore") if isinstance(name, bytes) else name).strip().lower()
    label = _WHATWG_ALIASES.get(label, label)  # browsers read "latin-1" as cp1252
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode(html: bytes | str, content_type: str | None = None) -> str:
    """Bytes of a page -> text, the way a browser would pick the encoding."""
    if isinstance(html, str):
        return html
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if html.startswith(bom):
            return html[len(bom):].decode(codec, errors="replace")
    header = _HEADER_CHARSET.search(content_type or "")
    meta = _META_CHARSET.search(html[:8192])
    candidates = [_codec(header.group(1) if header else None),
                  _codec(meta.group(1) if meta else None), "utf-8"]
    for codec in candidates:
        if codec is None:
            continue
        try:
            return html.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue  # a wrong declaration is common; try the next source
    return _detect(html)


def _detect(html: bytes) -> str:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # optional: trafilatura pulls it in, but do not rely on it
        from_bytes = None
    if from_bytes is not None:
        best = from_bytes(html).best()
        if best is not None:
            return str(best)
    raise ReadError("page bytes match no known text encoding", reason="encoding")


def _run(text: str, url: str | None, **options: Any) -> Document | None:
    result = trafilatura.bare_extraction(
        text, url=url, with_metadata=True, date_extraction_params=_DATE_PARAMS,
        **_COMMON, **options,
    )
    return result if isinstance(result, Document) else None


def extract_text(text: str, url: str | None) -> Document | None:
    """The trafilatura result whose body is the better article, or None."""
    precise = _run(text, url, favor_precision=True)
    balanced = _run(text, url)
    if precise is None or not precise.text:
        return balanced
    if balanced is not None and balanced.text and (
        len(precise.text) < PRECISION_KEEP_RATIO * len(balanced.text)
    ):
        return balanced
    return precise


def strip_boilerplate(body: str) -> str:
    lines = [
        line for line in body.split("\n")
        if not (len(line) < _BOILERPLATE_MAX_LEN and _BOILERPLATE.search(line))
    ]
    return "\n".join(lines).strip()


def _published(value: str | None) -> datetime | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            when = datetime.strptime(value, fmt)
        except ValueError:
            continue
        # A date without a zone is the publisher's local day; UTC is the least wrong guess.
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(
            UTC)
    return None


def _authors(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(dict.fromkeys(a.strip() for a in value.split(";") if a.strip()))


def _language(doc: Document, html: str, body: str) -> str:
    """The page's declared language, else the one its main text is written in.

    Many pages declare none; the language gate and researchers' filters need
    one on every article, so the text itself decides then (py3langid, whose
    model ships inside the package)."""
    if doc.language:
        return str(doc.language).lower()[:3].split("-")[0]
    match = _HTML_LANG.search(html[:65536])
    if match:
        return match.group(1).lower()
    return detect_language(body)


def detect_language(text: str) -> str:
    """ISO 639-1 code of the language ``text`` is written in (its first 5,000 characters)."""
    import py3langid

    code, _score = py3langid.classify(text[:5000])
    return str(code)


def read_article(html: bytes | str, url: str | None, *,
                 content_type: str | None = None) -> Article:
    """Main text and metadata of one page; ReadError when there is no article."""
    text = decode(html, content_type)
    doc = extract_text(text, url)
    body = strip_boilerplate(doc.text or "") if doc is not None else ""
    if doc is None or len(body) < MIN_TEXT_CHARS:
        raise ReadError(f"no main text found in {url or 'page'}", reason="no_text")
    return Article(
        url=url or str(doc.url or ""),
        text=body,
        title=(doc.title or "").strip() or None,
        published=_published(doc.date),
        authors=_authors(doc.author),
        language=_language(doc, text, body),
    )


__all__ = ["decode", "extract_text", "read_article", "strip_boilerplate"]
