"""Stage 1, poll: one feed's bytes -> typed entries.

1. GET the feed with its stored validators (conditional GET; 304 costs nothing).
2. Parse the *bytes* with the response headers (feedparser given a string may
   open files or URLs; given bytes it only parses).
3. Turn entries into ``FeedEntry`` records: canonical http(s) link, GUID,
   clean title, a UTC date or None. Entries that cannot become an article are
   counted, never silently lost: the count is stored with the poll.
Any failure becomes a ``PollResult`` with an error reason; this stage never raises
for a bad feed, because one broken feed must not stop the others.
"""

from __future__ import annotations

import calendar
import io
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from config.errors import FeedError, FetchError, HTTPStatusError
from pipeline.fetch import Fetcher, permanent_location
from pipeline.records import FeedEntry, FeedState, PollResult
from pipeline.urls import canonical_url

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_TITLE = 1000
MAX_GUID = 2000
MAX_URL = 4000
# A feed date this far ahead is a publisher's clock or time-zone bug, not news
# from the future; it is dropped (the page's own date may fill it later).
FUTURE_TOLERANCE = timedelta(days=1)


def clean_text(value: Any, limit: int) -> str | None:
    """Collapse whitespace, drop control characters, cap the length."""
    if not isinstance(value, str):
        return None
    value = " ".join(_CONTROL.sub(" ", value).split())
    return value[:limit] or None


def entry_date(entry: Any, now: datetime) -> datetime | None:
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
        url = urljoin(base, raw.strip())
        # javascript:, data:, mailto: and friends pass through feedparser; never follow them.
        if urlsplit(url).scheme in ("http", "https") and len(url) <= MAX_URL:
            return url
    return None


def parse_feed(
    body: bytes, headers: dict[str, str], *, feed: FeedState, base_url: str, max_entries: int,
    now: datetime | None = None,
) -> tuple[list[FeedEntry], str | None, int]:
    """Parse feed bytes into entries: (entries, bozo message, skipped count).

    Raises FeedError when the bytes are not a feed at all.
    """
    now = now or datetime.now(UTC).replace(tzinfo=None)
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    bozo = None
    if parsed.get("bozo"):
        bozo = f"{type(parsed.get('bozo_exception')).__name__}: {parsed.get('bozo_exception')}"[:500]
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
                raw_link=link,
            )
        )
    if not entries and bozo and not parsed.get("version"):
        # Nothing usable and not even recognisable as a feed: an error, not an empty feed.
        raise FeedError(f"not a feed: {bozo}")
    return entries, bozo, skipped


async def poll_feed(fetcher: Fetcher, feed: FeedState, *, max_entries: int) -> PollResult:
    """GET and parse one feed; every outcome, good or bad, is a PollResult."""
    started = time.monotonic()
    try:
        page = await fetcher.get(
            feed.url, kind="feed", etag=feed.etag, last_modified=feed.last_modified
        )
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

