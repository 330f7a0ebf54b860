"""Does a confidence mean what it says? Observed precision per confidence bin.

    python extractors/corpus/reliability.py --split test [--shared ../shared]

Runs the real pipeline over a split of our corpus and matches each predicted
stance and quote to the adjudicated gold the way the project's scorer does
(stance: holder among the gold holder's names and the same polarity; quote:
half the words shared both ways), then prints, per confidence bin, how many
were predicted and what share was right. A prediction matched to an optional
gold entry counts neither way, as in the scorer.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

from config.settings import Settings
from extractors import analyze, build_nlp
from extractors.corpus.evaluate import HERE, split_rows, texts

BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


def _scorer(shared: Path):  # noqa: ANN202 - the shared scorer, loaded as a module
    spec = importlib.util.spec_from_file_location("newsmon_score", shared / "eval" / "score.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def outcomes(gold: dict, pred: dict, sc) -> list[tuple[str, float, bool | None]]:  # noqa: ANN001
    """(field/source, confidence, right?) per prediction; None when matched to an optional entry."""
    al = sc.Aliases(gold.get("actors", []))
    out: list[tuple[str, float, bool | None]] = []
    used: set[int] = set()
    for p in pred.get("stances", []):
        hit = next((i for i, g in enumerate(gold.get("stances", [])) if i not in used
                    and g["polarity"] == p["polarity"]
                    and sc.norm(p["holder"]) in al.expand(g["holder"])), None)
        if hit is not None:
            used.add(hit)
        right = None if hit is not None and gold["stances"][hit].get("optional") else hit is not None
        source = "stances/model" if p.get("cue") == "(model)" else "stances/rules"
        out.append((source, p.get("confidence", 1.0), right))
    used = set()
    for p in pred.get("quotes", []):
        hit = next((i for i, g in enumerate(gold.get("quotes", [])) if i not in used
                    and sc.overlap(g["text"], p["text"])), None)
        if hit is not None:
            used.add(hit)
        right = None if hit is not None and gold["quotes"][hit].get("optional") else hit is not None
        out.append((f"quotes/{p.get('kind')}", p.get("confidence", 1.0), right))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=["train", "dev", "test"], required=True)
    parser.add_argument("--shared", type=Path, default=HERE.parents[2] / "shared")
    args = parser.parse_args()
    if not (args.shared / "eval" / "score.py").is_file():
        raise SystemExit(f"needs the shared corpus and scorer under {args.shared} (--shared)")
    items = texts(args.split, args.shared)
    rows = collect(args.split, args.shared)
    print(f"{len(items)} articles of split {args.split}", file=sys.stderr)
    print("| field | confidence | predicted | right | precision |")
    print("| --- | --- | --- | --- | --- |")
    for field in ("stances", "quotes"):
        for lo, hi in zip(BINS, BINS[1:]):
            judged = [r for f, c, r in rows if f.startswith(field) and lo <= c < hi
                      and r is not None]
            if judged:
                right = sum(judged)
                print(f"| {field} | {lo:.1f}-{min(hi, 1.0):.1f} | {len(judged)} | {right} | "
                      f"{right / len(judged):.2f} |")


def collect(split: str, shared: Path, nlp=None) -> list[tuple[str, float, bool | None]]:  # noqa: ANN001
    """Every prediction of a split with its source, raw or calibrated score, and outcome."""
    sc = _scorer(shared)
    nlp = nlp or build_nlp(Settings())
    gold = {r["file"].removesuffix(".txt"): json.loads(
        (HERE / "gold" / r["file"].replace(".txt", ".json")).read_text(encoding="utf-8"))
        for r in split_rows(split)}
    rows: list[tuple[str, float, bool | None]] = []
    for analysis in analyze(nlp, texts(split, shared)):
        rows += outcomes(gold[analysis.id], analysis.to_spec(), sc)
    return rows


if __name__ == "__main__":
    main()
