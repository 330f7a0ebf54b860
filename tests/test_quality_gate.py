"""Quality gate: the real pipeline over the shared dev set, scored by the
shared scorer, must stay at or above the committed floors.

The floors live in tests/quality_floors.json. Lowering a floor is never done
here: it needs an explicit edit of that JSON file, visible in review.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.floors import check_floor, load_floors
from tests.support.paths import needs_shared

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSMON_SHARED", ROOT.parent / "shared"))
DEV = SHARED / "eval" / "dev"
FLOORS = load_floors(Path(__file__).parent / "quality_floors.json")


@pytest.fixture(scope="module")
def scores(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not (DEV / "gold.jsonl").is_file():
        pytest.fail(f"dev set not found under {DEV}; set NEWSMON_SHARED")
    from config.settings import Settings
    from extractors import analyze, build_nlp

    nlp = build_nlp(Settings())
    items = [(p.stem, p.read_text(encoding="utf-8")) for p in sorted((DEV / "articles").glob("*.txt"))]
    pred = tmp_path_factory.mktemp("gate") / "pred.jsonl"
    with pred.open("w", encoding="utf-8") as out:
        for analysis in analyze(nlp, items):
            out.write(json.dumps(analysis.to_spec()) + "\n")
    run = subprocess.run(
        [sys.executable, str(SHARED / "eval" / "score.py"), str(DEV / "gold.jsonl"), str(pred), "--json"],
        capture_output=True, text=True, check=True,
    )
    return json.loads(run.stdout)


@needs_shared
@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_metric_at_or_above_floor(scores: dict, metric: str) -> None:
    check_floor(scores, FLOORS, metric, "the shared dev set")
