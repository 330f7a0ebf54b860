"""Extraction throughput vs the bare base model, over ../shared/corpus/articles.

Run: python tests/bench/bench_extract.py [--batch-size 32] [--rounds 2]

Both runs use the same texts, batch size and process; the bare run is the
configured base model alone (spacy.load of settings.spacy_model), the full run
is build_nlp + analyze (our components plus building the records). Target:
full >= 0.85x bare words/second, peak RSS < 1 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("NEWSMON_SHARED", ROOT.parent / "shared"))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    import spacy

    from config.settings import Settings
    from extractors import analyze, build_nlp

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=2, help="best of N rounds each")
    args = ap.parse_args()
    texts = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "corpus" / "articles").glob("*.txt"))]
    words = sum(len(t.split()) for t in texts)
    settings = Settings()
    bare = spacy.load(settings.spacy_model)
    full = build_nlp(settings)
    items = [(str(i), t) for i, t in enumerate(texts)]
    bare_s = full_s = float("inf")
    for _ in range(args.rounds):  # interleaved so drift hits both alike
        bare_s = min(bare_s, timed(lambda: list(bare.pipe(texts, batch_size=args.batch_size))))
        full_s = min(full_s, timed(lambda: list(analyze(full, items, batch_size=args.batch_size))))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    ratio = bare_s / full_s
    print(f"{len(texts)} texts, {words} words, batch size {args.batch_size}, model {settings.spacy_model}")
    print(f"bare nlp.pipe : {words / bare_s:10.0f} words/s")
    print(f"extraction    : {words / full_s:10.0f} words/s")
    print(f"ratio         : {ratio:10.2f}x  (target >= 0.85)")
    print(f"peak RSS      : {rss_mb:10.0f} MB  (target < 1024)")
    return 0 if ratio >= 0.85 and rss_mb < 1024 else 1


if __name__ == "__main__":
    sys.exit(main())
