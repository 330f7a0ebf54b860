"""Choose the articles of newsmon's own annotated corpus and split them by article.

    python extractors/corpus/choose.py [--shared ../shared]

Reads ``corpus/train/manifest.jsonl`` from the shared material (the texts stay
there; only names and hashes are written here) and writes ``articles.tsv``:
file, sha256 of the text, outlet, date, words, split, batch. Deterministic:
the same manifest gives the same file.

Balance: outlets are grouped (Wikinews, VOA newscasts, the AllSides outlets,
the European Parliament press service, GUM), each group contributes in
proportion to a quota, and inside a group the articles are spread over its
outlets and years before any outlet gives a second one. The split is drawn
per group too (train 60%, dev 20%, test 20%), so every split has every kind
of text. ``batch`` orders the annotation work: test and dev first.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261201
QUOTA = {"wikinews": 45, "voa": 20, "allsides": 76, "europarl": 5, "gum": 4}
SPLITS = (("test", 0.2), ("dev", 0.2), ("train", 0.6))
BATCH_SIZE = 19


def group_of(row: dict) -> str:
    outlet = row["outlet"]
    if "GUM" in outlet:
        return "gum"
    if outlet.startswith("Wikinews"):
        return "wikinews"
    if outlet.startswith("Voice of America"):
        return "voa"
    if outlet.startswith("European Parliament"):
        return "europarl"
    return "allsides"


def spread(rows: list[dict], n: int, rng: random.Random) -> list[dict]:
    """n rows, round-robin over (outlet, year) buckets so no bucket gives two before all give one."""
    buckets: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        buckets[(row["outlet"], row["date"][:4])].append(row)
    for bucket in buckets.values():
        rng.shuffle(bucket)
    order = sorted(buckets)
    rng.shuffle(order)
    chosen: list[dict] = []
    while len(chosen) < n and any(buckets.values()):
        for key in order:
            if buckets[key] and len(chosen) < n:
                chosen.append(buckets[key].pop())
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=HERE.parents[2] / "shared")
    args = parser.parse_args()
    train = args.shared / "corpus" / "train"
    if not train.is_dir():
        raise SystemExit(f"needs the shared corpus at {train} (pass --shared)")
    rows = [json.loads(line) for line in (train / "manifest.jsonl").open(encoding="utf-8")]
    rng = random.Random(SEED)
    by_group: dict[str, list[dict]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["file"]):
        by_group[group_of(row)].append(row)
    out = []
    for group, quota in QUOTA.items():
        chosen = spread(by_group[group], quota, rng)
        rng.shuffle(chosen)
        start = 0
        for i, (split, share) in enumerate(SPLITS):
            count = len(chosen) - start if i == len(SPLITS) - 1 else round(len(chosen) * share)
            for row in chosen[start:start + count]:
                out.append({**row, "split": split})
            start += count
    rank = {"test": 0, "dev": 1, "train": 2}
    out.sort(key=lambda r: (rank[r["split"]], r["file"]))
    lines = ["file\tsha256\toutlet\tdate\twords\tsplit\tbatch"]
    for i, row in enumerate(out):
        digest = hashlib.sha256((train / "articles" / row["file"]).read_bytes()).hexdigest()
        lines.append("\t".join([row["file"], digest, row["outlet"], row["date"],
                                str(row["words"]), row["split"], str(i // BATCH_SIZE + 1)]))
    (HERE / "articles.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(out)} articles -> {HERE / 'articles.tsv'}")


if __name__ == "__main__":
    main()
