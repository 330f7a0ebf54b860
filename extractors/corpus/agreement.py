"""Inter-annotator agreement: pass B scored against pass A with the project's scorer.

    python extractors/corpus/agreement.py [--shared ../shared] [--split test] [--json]

Pass A is taken as the gold (its name lists, its optional marks) and pass B
as a prediction in the ``newsmon extract --json`` shape (the first name of
each list; B's own optional entries left out, since B judged them droppable).
F1 is symmetric in the two passes, so this is the usual pairwise agreement.
Only articles that both passes have annotated count.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def as_prediction(doc: dict) -> dict:
    """One annotation in the shape ``newsmon extract --json`` prints."""
    keep = [x for x in doc.get("actors", []) if not x.get("optional")]

    def first(value: object) -> str | None:
        return value[0] if isinstance(value, list) and value else None

    amounts = []
    for a in doc.get("amounts", []):
        if a.get("optional"):
            continue
        item = {k: a[k] for k in ("text", "value", "currency", "period_years") if k in a}
        for role in ("donor", "recipient"):
            if first(a.get(role)):
                item[role] = first(a.get(role))
        amounts.append(item)
    return {
        "id": doc["id"],
        "actors": [{"name": a["names"][0], "type": a["type"]} for a in keep],
        "amounts": amounts,
        "stances": [{"holder": first(s["holder"]), "polarity": s["polarity"],
                     "target": first(s.get("targets")), "cue": s.get("cue", "")}
                    for s in doc.get("stances", []) if not s.get("optional")],
        "quotes": [{"speaker": first(q["speaker"]), "text": q["text"], "kind": q["kind"],
                    "cue": q.get("cue", "")}
                   for q in doc.get("quotes", []) if not q.get("optional")],
    }


def both_annotated(split: str | None) -> list[str]:
    rows = list(csv.DictReader((HERE / "articles.tsv").open(encoding="utf-8"), delimiter="\t"))
    stems = [r["file"].removesuffix(".txt") for r in rows if split in (None, r["split"])]
    return [s for s in stems
            if (HERE / "pass_a" / f"{s}.json").exists() and (HERE / "pass_b" / f"{s}.json").exists()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=HERE.parents[2] / "shared")
    parser.add_argument("--split", choices=["train", "dev", "test"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    scorer = args.shared / "eval" / "score.py"
    if not scorer.is_file():
        raise SystemExit(f"needs the project's scorer at {scorer} (pass --shared)")
    stems = both_annotated(args.split)
    if not stems:
        raise SystemExit("no article has both passes yet")
    with tempfile.TemporaryDirectory() as tmp:
        gold, pred = Path(tmp) / "a.jsonl", Path(tmp) / "b.jsonl"
        with gold.open("w", encoding="utf-8") as g, pred.open("w", encoding="utf-8") as p:
            for stem in stems:
                a = json.loads((HERE / "pass_a" / f"{stem}.json").read_text(encoding="utf-8"))
                b = json.loads((HERE / "pass_b" / f"{stem}.json").read_text(encoding="utf-8"))
                g.write(json.dumps(a) + "\n")
                p.write(json.dumps(as_prediction(b)) + "\n")
        command = [sys.executable, str(scorer), str(gold), str(pred)] + (
            ["--json"] if args.json else [])
        print(f"{len(stems)} articles annotated by both passes", file=sys.stderr)
        sys.exit(subprocess.run(command, check=False).returncode)


if __name__ == "__main__":
    main()
