"""Confidences that mean something: raw scores mapped to the precision seen on dev.

A rule's confidence is a constant per pattern and the classifier's is a
probability; neither says how often such a stance or quote is right. The
table in extractors/model/calibration.json (written by
``python extractors/corpus/calibrate.py``, from the dev split of our corpus)
maps each (field, source, raw-score bin) to the precision observed there, and
``calibrate`` puts that number on every stance and quote. Without the table
the raw scores stay.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path

from extractors.records import Quote, Stance

TABLE = Path(__file__).resolve().parent / "model" / "calibration.json"
MIN_JUDGED = 5  # a bin seen fewer times on dev keeps the raw score


@cache
def _table(path: Path = TABLE) -> dict[str, list[list[float]]]:
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["bins"]


def source_of(item: Stance | Quote) -> str:
    if isinstance(item, Stance):
        return "stances/model" if item.cue == "(model)" else "stances/rules"
    return f"quotes/{item.kind}"


def calibrated(key: str, raw: float) -> float:
    for lo, hi, precision, judged in _table().get(key, []):
        if lo <= raw < hi and judged >= MIN_JUDGED:
            return round(precision, 3)
    return raw


def calibrate(items: tuple[Stance, ...] | tuple[Quote, ...]) -> tuple:
    return tuple(replace(x, confidence=calibrated(source_of(x), x.confidence)) for x in items)
