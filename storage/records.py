"""Typed records passed between the ingestion stages.

poll -> FeedEntry, fetch -> Page, read -> Article. Small frozen dataclasses:
stages take one and return another, never reaching into each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed document, as the poll stage understood it."""

    feed_id: int
    link: str  # de-duplication key (see pipeline.ingest.urls.url_key)
    guid: str | None
    title: str | None
    published: datetime | None  # UTC; None when missing or unparseable
    summary: str | None = None
    raw_link: str | None = None  # the link as the feed gave it: what is fetched


@dataclass(frozen=True, slots=True)
class Page:
    """Bytes of one HTTP response after the guards let it through."""

    url: str  # final URL after redirects
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    redirects: tuple[str, ...] = ()
    elapsed: float = 0.0


@dataclass(frozen=True, slots=True)
class Article:
    """Main text and metadata the reader found in a page."""

    url: str
    text: str
    title: str | None = None
    published: datetime | None = None
    authors: tuple[str, ...] = ()
    language: str | None = None


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the poll stage needs to know about a feed (read from the database)."""

    id: int
    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    interval_s: float = 900.0
    consecutive_errors: int = 0


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll of one feed produced: entries, new validators, or an error."""

    feed_id: int
    status: int | None  # HTTP status; None when no response arrived
    entries: tuple[FeedEntry, ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    moved_to: str | None = None  # new URL after a permanent redirect
    bozo: str | None = None  # feedparser's complaint about a feed it still parsed
    error: str | None = None  # reason, e.g. "http_500", "timeout", "feed_parse"
    error_detail: str | None = None
    retry_after: float | None = None
    skipped_entries: int = 0  # over max_entries_per_feed or without a usable link
    elapsed: float = 0.0
    size: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None
