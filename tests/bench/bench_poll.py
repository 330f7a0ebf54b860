"""Poll-cycle benchmark: 500 local feeds through newsmon vs bare concurrent httpx.

Run: python tests/bench/bench_poll.py [--feeds 500]
Prints the bare-httpx baseline, newsmon's first cycle (all 200, entries
stored) and second cycle (all 304), and each ratio against the baseline.
Target (issue 2): second cycle <= 1.5x the baseline. Same process, same
server, same concurrency limit, so the ratio cancels out the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from config.feeds import FeedSpec  # noqa: E402
from config.settings import Settings  # noqa: E402
from pipeline.daemon.process import CycleStats, poll_due  # noqa: E402
from pipeline.ingest.fetch import Fetcher  # noqa: E402
from storage import queries  # noqa: E402
from storage.db import open_database  # noqa: E402
from tests.support.site import start_site  # noqa: E402

CONCURRENCY = 16


async def bare_get(urls: list[str]) -> float:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits) as client:
        began = time.perf_counter()
        responses = await asyncio.gather(*(client.get(u) for u in urls))
        took = time.perf_counter() - began
    assert all(r.status_code == 200 for r in responses)
    return took


def newsmon_cycle(db, settings: Settings) -> tuple[float, CycleStats]:  # noqa: ANN001
    stats = CycleStats()

    async def go() -> None:
        async with Fetcher(settings) as fetcher:
            await poll_due(db, fetcher, settings, stats, threading.Event())

    began = time.perf_counter()
    asyncio.run(go())
    return time.perf_counter() - began, stats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=500)
    args = parser.parse_args()
    site, stop = start_site()
    urls = [site.url(f"/feed/{i}.xml") for i in range(args.feeds)]
    settings = Settings(allowed_networks=["127.0.0.0/8"], max_connections=CONCURRENCY,
                        per_host_connections=CONCURRENCY, min_poll_interval=0)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{tmp}/bench.db")
        with db.transaction() as s:
            queries.sync_feeds([FeedSpec(f"f{i}", u, 0.0) for i, u in enumerate(urls)],
                               session=s, default_interval=0)
        asyncio.run(bare_get(urls[:20]))  # warm-up: imports, first connections
        baseline = min(asyncio.run(bare_get(urls)) for _ in range(3))
        first, s1 = newsmon_cycle(db, settings)
        second, s2 = newsmon_cycle(db, settings)
        db.dispose()
    stop()
    assert s1.feeds_polled == s2.feeds_polled == args.feeds and s1.feeds_failed == 0
    print(f"feeds: {args.feeds}, concurrency {CONCURRENCY}")
    print(f"bare httpx GET (baseline): {baseline:.3f} s")
    print(f"newsmon cycle 1 (200, {s1.new_articles} entries stored): {first:.3f} s "
          f"= {first / baseline:.2f}x")
    print(f"newsmon cycle 2 (all 304): {second:.3f} s = {second / baseline:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
