"""Write extractors/model/calibration.json: raw score bins -> precision seen on dev.

    python extractors/corpus/calibrate.py [--shared ../shared]

Runs the pipeline without a calibration table over the dev split, matches
every stance and quote to the gold as the scorer does (reliability.py), and
stores per (field/source, raw-score bin) the observed precision, smoothed
((right + 1) / (judged + 2)). Only dev is read; the test split stays for
reporting (reliability.py --split test).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from extractors import calibration
from extractors.corpus.evaluate import HERE
from extractors.corpus.reliability import BINS, collect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=HERE.parents[2] / "shared")
    args = parser.parse_args()
    calibration.TABLE.unlink(missing_ok=True)  # measure the raw scores
    calibration._table.cache_clear()
    rows = collect("dev", args.shared)
    judged: dict[tuple[str, int], list[bool]] = defaultdict(list)
    for key, raw, right in rows:
        if right is None:
            continue
        b = next(i for i, (lo, hi) in enumerate(zip(BINS, BINS[1:])) if lo <= raw < hi)
        judged[(key, b)].append(right)
    table: dict[str, list[list[float]]] = defaultdict(list)
    for (key, b), outcomes in sorted(judged.items()):
        right, n = sum(outcomes), len(outcomes)
        table[key].append([BINS[b], BINS[b + 1], (right + 1) / (n + 2), n])
    out = {"split": "dev", "smoothing": "(right + 1) / (judged + 2)", "bins": dict(table)}
    calibration.TABLE.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
