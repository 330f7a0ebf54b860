"""Quality gate on news nobody tuned to: the test split of newsmon's own corpus.

The 30 test articles (extractors/corpus, split by article before any
modelling) are read only to report: the gate runs the real pipeline over them,
scores it with the project's scorer against the adjudicated gold, and holds the
figures to the floors in tests/corpus_floors.json. The texts live in the shared
corpus, so a clone without ../shared skips this with the path it looked for.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.floors import check_floor, load_floors
from tests.support.paths import SHARED, needs_shared

ROOT = Path(__file__).resolve().parents[1]
FLOORS = load_floors(Path(__file__).parent / "corpus_floors.json")


@pytest.fixture(scope="module")
def scores() -> dict:
    run = subprocess.run(
        [sys.executable, str(ROOT / "extractors" / "corpus" / "evaluate.py"), "--split", "test",
         "--shared", str(SHARED), "--json"],
        capture_output=True, text=True, check=True, timeout=600,
    )
    return json.loads(run.stdout)


@needs_shared
@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_test_split_metric_at_or_above_floor(scores: dict, metric: str) -> None:
    check_floor(scores, FLOORS, metric, "our corpus's test split")
