"""The one exception tree of newsmon.

Every error newsmon raises on purpose descends from ``NewsmonError``;
third-party errors (httpx, feedparser, SQLAlchemy, spaCy, smtplib) are
translated at the boundary with ``raise X(...) from exc`` so callers catch
one family and the original cause stays on ``__cause__``::

    NewsmonError
    ├── ConfigError            bad setting, feeds/actors/cues file, missing model
    ├── StorageError           database unreachable, migration failed
    │   └── ReadOnlyViolation  a researcher's SQL tried to write or escape
    ├── FetchError             anything that stops one HTTP fetch
    │   ├── BlockedURL         scheme or address refused (SSRF guard, robots.txt)
    │   ├── TooLarge           body or decompressed body over the cap
    │   ├── FetchTimeout       per-step timeout or total deadline passed
    │   ├── HTTPStatusError    the server answered with an error status
    │   └── Stopped            not started because the daemon is stopping (not a failure)
    ├── FeedError              the feed could not be parsed into entries
    ├── ReadError              no main text could be read from a page
    ├── ExtractError           the NLP pipeline failed on a text
    └── DigestError            the digest could not be built or sent

Each class carries a short machine-readable ``reason`` that is what gets
stored in ``skip_reason`` / ``error`` columns, so a researcher can count
why items were dropped with plain SQL.
"""

from __future__ import annotations


class NewsmonError(Exception):
    """Root of every error newsmon raises on purpose."""

    reason: str = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class ConfigError(NewsmonError):
    reason = "config"


class StorageError(NewsmonError):
    reason = "storage"


class ReadOnlyViolation(StorageError):
    reason = "read_only"


class FetchError(NewsmonError):
    reason = "fetch_error"


class BlockedURL(FetchError):
    reason = "blocked_url"


class TooLarge(FetchError):
    reason = "too_large"


class FetchTimeout(FetchError):
    reason = "timeout"


class HTTPStatusError(FetchError):
    reason = "http_status"

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message, reason=f"http_{status}")
        self.status = status
        self.retry_after = retry_after


class Stopped(FetchError):
    """A request that was never sent because a stop was asked for: nothing to record."""

    reason = "stopped"


class FeedError(NewsmonError):
    reason = "feed_parse"


class ReadError(NewsmonError):
    reason = "no_text"


class ExtractError(NewsmonError):
    reason = "extract_failed"


class DigestError(NewsmonError):
    reason = "digest_failed"


__all__ = [
    "BlockedURL",
    "ConfigError",
    "DigestError",
    "ExtractError",
    "FeedError",
    "FetchError",
    "FetchTimeout",
    "HTTPStatusError",
    "NewsmonError",
    "ReadError",
    "ReadOnlyViolation",
    "StorageError",
    "Stopped",
    "TooLarge",
]
