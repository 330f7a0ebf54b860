"""Committed quality floors (STYLE.md §12): one file of floors, one check per metric."""

from __future__ import annotations

import json
from pathlib import Path


def load_floors(path: Path) -> dict[str, float]:
    """Metric -> floor; keys starting with "_" are comments."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def check_floor(scores: dict, floors: dict[str, float], metric: str, where: str) -> None:
    """``metric`` is "field.name" of the scorer's --json output."""
    field, name = metric.split(".")
    got = scores[field][name]
    assert got is not None and got >= floors[metric], (
        f"{metric} = {got} is below its floor {floors[metric]} on {where}; "
        f"worst: {scores.get('worst')}")
