"""Shared fixtures live in tests/support/, one module per kind of real thing."""

from __future__ import annotations

pytest_plugins = [
    "tests.support.paths",
    "tests.support.site",
    "tests.support.db",
    "tests.support.smtp",
]
