"""Body-extraction F1 of pipeline.ingest.articles.read_article on the 181-page benchmark.

Usage, from the project root::

    python tests/bench/score_reader.py [--pred PRED.json] [--jobs N]

Reads ../shared/corpus/extraction/html/*.html.gz, writes PRED (key ->
{"articleBody": text}) and prints the JSON line of
../shared/eval/score_extraction.py (pages, missing, f1, precision, recall).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from pipeline.errors import ReadError  # noqa: E402
from pipeline.ingest.articles import read_article  # noqa: E402
from tests.support.paths import CORPUS, SHARED  # noqa: E402

HTML_DIR = CORPUS / "extraction" / "html"
GROUND_TRUTH = CORPUS / "extraction" / "ground-truth.json"
SCORER = SHARED / "eval" / "score_extraction.py"


def read_one(path: Path) -> tuple[str, str]:
    key = path.name.removesuffix(".html.gz")
    try:
        text = read_article(gzip.decompress(path.read_bytes()), None).text
    except ReadError:
        text = ""  # scored as an empty prediction, as the benchmark does
    return key, text


def predict(jobs: int = 1) -> dict[str, dict[str, str]]:
    paths = sorted(HTML_DIR.glob("*.html.gz"))
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            pairs = list(pool.map(read_one, paths, chunksize=8))
    else:
        pairs = [read_one(p) for p in paths]
    return {key: {"articleBody": text} for key, text in pairs}


def score(pred_path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, str(SCORER), str(GROUND_TRUTH), str(pred_path)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pred", type=Path, help="where to write PRED (default: a temp file)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    args = parser.parse_args(argv)
    pred_path = args.pred or Path(tempfile.mkdtemp(prefix="newsmon-reader-")) / "pred.json"
    pred_path.write_text(json.dumps(predict(args.jobs), ensure_ascii=False), encoding="utf-8")
    print(json.dumps(score(pred_path)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
