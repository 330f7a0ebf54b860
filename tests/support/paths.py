"""Where the shared real material lives (../shared beside the checkout).

A bare clone has no ``../shared``: tests that read it carry the ``shared``
marker (``needs_shared``) and skip with a reason naming the path. CI sets
``NEWSMON_REQUIRE_SHARED=1``; then a missing ``../shared`` or any skipped
``shared`` test fails the run, so the real material is never quietly unused.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("NEWSMON_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus"
DATA = REPO / "tests" / "data"  # fixtures we wrote ourselves: always present
HAVE_SHARED = (SHARED / "corpus").is_dir() and (SHARED / "eval").is_dir()
REQUIRE_SHARED = os.environ.get("NEWSMON_REQUIRE_SHARED", "") not in ("", "0")
SKIP_REASON = f"needs the shared corpus at {SHARED} (absent; set NEWSMON_SHARED to its path)"

needs_shared = pytest.mark.shared


def shared_params(values: Iterable[Any]) -> list[Any]:
    """Parameters drawn from ../shared; on a bare clone one placeholder that skips with the reason."""
    return list(values) if HAVE_SHARED else [pytest.param(None, marks=needs_shared, id="no-shared")]


def corpus_names(sub: str) -> list[Any]:
    """File names of a corpus folder as parameters (see ``shared_params``)."""
    folder = CORPUS / sub
    return shared_params(sorted(p.name for p in folder.iterdir()) if folder.is_dir() else ())


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_SHARED and not HAVE_SHARED:
        raise pytest.UsageError(f"NEWSMON_REQUIRE_SHARED is set but {SHARED} has no corpus/ and eval/")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if HAVE_SHARED:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker("shared"):
            item.add_marker(skip)


_skipped_shared: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and ("shared" in report.keywords or SKIP_REASON in str(report.longrepr)):
        _skipped_shared.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if REQUIRE_SHARED and _skipped_shared:
        print(f"\nNEWSMON_REQUIRE_SHARED: {len(_skipped_shared)} shared-material tests skipped:")
        for nodeid in _skipped_shared[:20]:
            print(f"  {nodeid}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not HAVE_SHARED:
        pytest.skip(SKIP_REASON)
    return SHARED
