"""Score the extractors on a split of newsmon's own corpus (the adjudicated gold).

    python extractors/corpus/evaluate.py --split dev [--shared ../shared] [--json]
        [--pred PRED.jsonl] [--gold-out GOLD.jsonl]

Runs the real pipeline (the current settings: model, gazetteer, cue lexicon)
over the split's texts, read from the shared corpus by path and checked
against the SHA-256 in ``articles.tsv``, and scores the output with the
project's scorer. Tune on ``train`` and ``dev``; ``test`` is for reporting.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def split_rows(split: str) -> list[dict[str, str]]:
    rows = csv.DictReader((HERE / "articles.tsv").open(encoding="utf-8"), delimiter="\t")
    return [r for r in rows if r["split"] == split]


def gold_lines(split: str) -> list[str]:
    """The adjudicated annotations of a split, one JSON line each (those adjudicated so far)."""
    out = []
    for row in split_rows(split):
        path = HERE / "gold" / f"{row['file'].removesuffix('.txt')}.json"
        if path.exists():
            out.append(json.dumps(json.loads(path.read_text(encoding="utf-8"))))
    return out


def texts(split: str, shared: Path) -> list[tuple[str, str]]:
    """(id, text) of the split's adjudicated articles; refuses a text whose hash changed."""
    folder = shared / "corpus" / "train" / "articles"
    out = []
    for row in split_rows(split):
        stem = row["file"].removesuffix(".txt")
        if not (HERE / "gold" / f"{stem}.json").exists():
            continue
        data = (folder / row["file"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != row["sha256"]:
            raise SystemExit(f"{row['file']}: text differs from the annotated one (sha256)")
        out.append((stem, data.decode("utf-8")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=["train", "dev", "test"], required=True)
    parser.add_argument("--shared", type=Path, default=HERE.parents[2] / "shared")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--pred", type=Path, help="also keep the predictions here")
    parser.add_argument("--gold-out", type=Path, help="also write the split's gold here")
    args = parser.parse_args()
    scorer = args.shared / "eval" / "score.py"
    if not scorer.is_file():
        raise SystemExit(f"needs the shared corpus and scorer under {args.shared} (--shared)")
    items = texts(args.split, args.shared)
    if not items:
        raise SystemExit(f"no adjudicated article in split {args.split} yet")
    from config.settings import Settings
    from extractors import analyze, build_nlp

    nlp = build_nlp(Settings())
    with tempfile.TemporaryDirectory() as tmp:
        gold = args.gold_out or Path(tmp) / "gold.jsonl"
        pred = args.pred or Path(tmp) / "pred.jsonl"
        gold.write_text("\n".join(gold_lines(args.split)) + "\n", encoding="utf-8")
        with pred.open("w", encoding="utf-8") as out:
            for analysis in analyze(nlp, items):
                out.write(json.dumps(analysis.to_spec()) + "\n")
        print(f"{len(items)} articles of split {args.split}", file=sys.stderr)
        command = [sys.executable, str(scorer), str(gold), str(pred)]
        sys.exit(subprocess.run(command + (["--json"] if args.json else []),
                                check=False).returncode)


if __name__ == "__main__":
    main()
