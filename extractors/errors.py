"""Errors of the extractors, under ``NewsmonError``.

    ExtractError          the NLP pipeline failed on a text
"""

from __future__ import annotations

from config.errors import NewsmonError


class ExtractError(NewsmonError):
    reason = "extract_failed"


__all__ = [
    "ExtractError",
]
