"""The root of newsmon's one exception tree, in the lowest layer.

Every error newsmon raises on purpose descends from ``NewsmonError``;
third-party errors (httpx, feedparser, SQLAlchemy, spaCy, smtplib) are
translated at the boundary with ``raise X(...) from exc`` so callers catch
one family and the original cause stays on ``__cause__``. Each layer keeps
its own branch beside its code, so this module knows no other layer::

    NewsmonError
    ├── ConfigError            bad setting, feeds/actors/cues file, missing model (here)
    ├── StorageError ...       storage/errors.py
    ├── ExtractError           extractors/errors.py
    └── FetchError, FeedError, ReadError, DigestError, AlreadyRunning ...
                               pipeline/errors.py

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


__all__ = ["ConfigError", "NewsmonError"]
