"""Errors of the daemon's stages (fetch, poll, read, digest), under ``NewsmonError``.

    FetchError            anything that stops one HTTP fetch
    ├── BlockedURL        scheme or address refused (SSRF guard, robots.txt)
    ├── TooLarge          body or decompressed body over the cap
    ├── FetchTimeout      per-step timeout or total deadline passed
    ├── HTTPStatusError   the server answered with an error status
    └── Stopped           not started because the daemon is stopping (not a failure)
    FeedError             the feed could not be parsed into entries
    ReadError             no main text could be read from a page
    DigestError           the digest could not be built or sent
    AlreadyRunning        another daemon holds this database's lease
"""

from __future__ import annotations

from config.errors import NewsmonError


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


class DigestError(NewsmonError):
    reason = "digest_failed"


class AlreadyRunning(NewsmonError):
    """Another daemon holds the lease on this database."""

    reason = "already_running"


__all__ = [
    "AlreadyRunning",
    "BlockedURL",
    "DigestError",
    "FeedError",
    "FetchError",
    "FetchTimeout",
    "HTTPStatusError",
    "ReadError",
    "Stopped",
    "TooLarge",
]
