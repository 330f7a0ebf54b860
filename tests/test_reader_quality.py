"""Quality gate: the reader's body-extraction F1 must not fall below the floor.

The floor lives in tests/reader_floor.json (STYLE.md §12). A change to the
reader, trafilatura or lxml that costs accuracy fails here, with the numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bench.score_reader import GROUND_TRUTH, HTML_DIR, SCORER, predict, score
from tests.support.paths import needs_shared

FLOOR = json.loads((Path(__file__).parent / "reader_floor.json").read_text(encoding="utf-8"))


@needs_shared
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_reader_f1_stays_above_floor(tmp_path: Path) -> None:
    for needed in (HTML_DIR, GROUND_TRUTH, SCORER):
        if not needed.exists():
            pytest.fail(f"benchmark material missing: {needed}")
    pred = tmp_path / "pred.json"
    pred.write_text(json.dumps(predict(jobs=2), ensure_ascii=False), encoding="utf-8")
    result = score(pred)
    assert result["pages"] == 181 and result["missing"] == 0
    for metric in ("f1", "precision", "recall"):
        assert result[metric] >= FLOOR[metric], (
            f"reader {metric} {result[metric]} fell below the floor {FLOOR[metric]}: {result}"
        )
