"""Where the shared real material lives (../shared beside the checkout)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("NEWSMON_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared material not found at {SHARED}; set NEWSMON_SHARED")
    return SHARED
