"""Errors of the storage layer, under ``NewsmonError``.

    StorageError          database unreachable, migration failed
    └── ReadOnlyViolation a researcher's SQL tried to write or escape
"""

from __future__ import annotations

from config.errors import NewsmonError


class StorageError(NewsmonError):
    reason = "storage"


class ReadOnlyViolation(StorageError):
    reason = "read_only"


__all__ = [
    "ReadOnlyViolation",
    "StorageError",
]
