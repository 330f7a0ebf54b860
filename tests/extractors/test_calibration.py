"""Calibrated confidences: the committed table maps raw scores to dev precision."""

from __future__ import annotations

import json

from extractors.calibration import MIN_JUDGED, TABLE, calibrated


def test_the_table_ships_and_maps_each_bin_to_its_dev_precision() -> None:
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    assert table["split"] == "dev"  # never the test split
    for key, bins in table["bins"].items():
        for lo, hi, precision, judged in bins:
            raw = (lo + hi) / 2
            expected = round(precision, 3) if judged >= MIN_JUDGED else raw
            assert calibrated(key, raw) == expected, (key, lo, hi)
            assert 0.0 < precision < 1.0  # smoothed: never certain


def test_an_unknown_source_keeps_its_raw_score() -> None:
    assert calibrated("stances/unheard-of", 0.77) == 0.77
