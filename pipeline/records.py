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
    link: str  # canonical URL (see pipeline.urls.canonical_url)
    guid: str | None
    title: str | None
    published: datetime | None  # UTC; None when missing or unparseable
    summary: str | None = None
    raw_link: str | None = None  # as written in the feed, before canonicalisation


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
