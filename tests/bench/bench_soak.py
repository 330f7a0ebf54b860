"""Soak benchmark: 1,000 feeds, 20,000 articles, 30 simulated minutes; memory must stay flat.

Run (a few minutes of wall time)::

    python tests/bench/bench_soak.py                  # 1000 feeds, 30 cycles
    python tests/bench/bench_soak.py --feeds 200 --minutes 10   # quick look

How time is compressed: every feed has a 1-minute interval in the story,
and one ``pipeline.daemon.process.run_cycle`` is one simulated minute. Settings make
every feed due again at once (``poll_interval=0``, ``min_poll_interval=0``),
so cycle k polls all feeds for the k-th time. Feed i serves, on its k-th
poll, its latest 10 items out of floor(k * 2/3) published so far (20 per
feed after 30 minutes), with a strong ETag: a feed without news answers 304,
as real ones do. Each article is a distinct small page (a route registered
on the local site) that the real reader (trafilatura) has to read, so the
whole ingestion path runs: poll, conditional GET, parse, upsert, fetch,
read, store. NLP extraction is off (``extract=False``): it is benchmarked
by bench_extract.py, and here it would only measure spaCy.

The site runs in a child process, so the RSS measured is newsmon's alone.
Reported: articles/s, peak RSS, and RSS after each simulated minute; the
run fails (exit 1) if RSS after the first third ("10 minutes") grows more
than GROWTH_LIMIT. Baseline: a bare httpx client fetching the same number
of pages from the same server, with the same concurrency, in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from config.feeds import FeedSpec  # noqa: E402
from config.settings import Settings  # noqa: E402
from pipeline.daemon.process import run_cycle  # noqa: E402
from storage import queries  # noqa: E402
from storage.db import open_database  # noqa: E402
from tests.support.site import Site, start_site  # noqa: E402

ITEMS_IN_FEED = 10
GROWTH_LIMIT = 1.15  # RSS at the end over RSS at the first third


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Sampler:
    """Peak RSS, sampled every 0.2 s on a thread (cycles allocate in bursts)."""

    def __init__(self) -> None:
        self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, rss_bytes())

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def article_html(feed: int, item: int) -> bytes:
    title = f"Council {feed} decision {item}"
    paras = "".join(
        f"<p>Story {feed}-{item}, paragraph {p}: the regional council voted on budget line "
        f"{feed * 31 + item * 7 + p} after a debate in which the opposition asked for "
        f"{item + p + 2} more weeks of consultation.</p>" for p in range(6))
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"{paras}</article></body></html>").encode()


def published(poll: int, per_minute: float) -> int:
    return int((poll + 1) * per_minute)


def register(site: Site, feeds: int, minutes: int, per_feed: int) -> list[str]:
    """Routes for every feed and every article page; returns the feed URLs."""
    per_minute = per_feed / minutes
    for f in range(feeds):
        for i in range(per_feed):
            body = article_html(f, i)
            site.route(f"/soak/{f}/{i}.html",
                       handler=lambda r, b=body: r.send(200, b, {"Content-Type": "text/html"}))
        polls = {"n": 0}

        def feed(request, f: int = f, polls: dict[str, int] = polls) -> None:  # noqa: ANN001
            n = min(per_feed, published(polls["n"], per_minute))
            polls["n"] += 1
            items = "".join(
                f"<item><title>Council {f} decision {i}</title>"
                f"<link>{site.url(f'/soak/{f}/{i}.html')}</link>"
                f"<guid isPermaLink='false'>soak-{f}-{i}</guid></item>"
                for i in range(max(0, n - ITEMS_IN_FEED), n))
            body = (f"<rss version='2.0'><channel><title>soak {f}</title>{items}"
                    "</channel></rss>").encode()
            request.conditional(body, "application/rss+xml")

        site.route(f"/soak/feed/{f}.xml", handler=feed)
    return [site.url(f"/soak/feed/{f}.xml") for f in range(feeds)]


def serve(conn, feeds: int, minutes: int, per_feed: int) -> None:  # noqa: ANN001
    """The site in its own process: its routes and hit counters must not count as
    newsmon's memory, and its request handling must not share newsmon's GIL."""
    site, _stop = start_site()
    register(site, feeds, minutes, per_feed)
    conn.send(site.base)
    threading.Event().wait()  # serve until the parent terminates us


def start_site_process(feeds: int, minutes: int, per_feed: int):  # noqa: ANN201
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=serve, args=(child, feeds, minutes, per_feed), daemon=True)
    proc.start()
    return proc, parent.recv()


def baseline(pages: list[str], concurrency: int) -> float:
    """Pages/s of a bare httpx client over the same server: the ceiling for our fetch."""
    async def run() -> float:
        slots = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency)) as client:
            async def one(url: str) -> None:
                async with slots:
                    (await client.get(url)).raise_for_status()

            began = time.perf_counter()
            await asyncio.gather(*(one(u) for u in pages))
            return len(pages) / (time.perf_counter() - began)

    return asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--minutes", type=int, default=30, help="simulated minutes (cycles)")
    parser.add_argument("--articles", type=int, default=20000, help="distinct articles in all")
    args = parser.parse_args()
    per_feed = args.articles // args.feeds
    site_proc, base_url = start_site_process(args.feeds, args.minutes, per_feed)
    urls = [f"{base_url}/soak/feed/{f}.xml" for f in range(args.feeds)]
    workdir = Path(tempfile.mkdtemp(prefix="newsmon-soak-"))
    settings = Settings(database_url=f"sqlite:///{workdir / 'soak.db'}",
                        allowed_networks=["127.0.0.0/8"], poll_interval=0, min_poll_interval=0,
                        # one local server stands in for a thousand hosts
                        per_host_connections=16, max_connections=16)
    db = open_database(settings.database_url)
    with db.transaction() as s:
        queries.sync_feeds([FeedSpec(f"soak-{i}", u) for i, u in enumerate(urls)], session=s,
                           default_interval=0)
    print(f"{args.feeds} feeds, {per_feed * args.feeds} articles over {args.minutes} "
          f"simulated minutes; database {workdir / 'soak.db'}")
    rss_by_minute: list[int] = []
    stored = 0
    began = time.perf_counter()
    with Sampler() as sampler:
        for minute in range(args.minutes):
            stats = run_cycle(db, settings, extract=False)
            stored += stats.pages_fetched
            rss_by_minute.append(rss_bytes())
            print(f"  minute {minute + 1:2d}: polled {stats.feeds_polled:5d} "
                  f"(failed {stats.feeds_failed}), new {stats.new_articles:4d}, "
                  f"pages {stats.pages_fetched:4d} (failed {stats.pages_failed}), "
                  f"RSS {rss_by_minute[-1] / 2**20:6.1f} MiB", flush=True)
    elapsed = time.perf_counter() - began
    pages = [f"{base_url}/soak/{f}/{i}.html" for f in range(args.feeds) for i in range(per_feed)]
    base = baseline(pages[: min(len(pages), 5000)], settings.max_connections)
    site_proc.terminate()
    with db.session() as s:
        counts = queries.status_counts(session=s)
    db.dispose()
    third = rss_by_minute[max(0, args.minutes // 3 - 1)]
    growth = rss_by_minute[-1] / third
    rate = stored / elapsed
    print(f"\narticles stored: {stored} ({counts}) in {elapsed:.1f} s = {rate:.1f} articles/s")
    print(f"baseline: bare httpx GET of the same pages {base:.1f} pages/s; "
          f"newsmon/baseline = {rate / base:.3f} (newsmon also polls, parses, reads, stores)")
    print(f"peak RSS {sampler.peak / 2**20:.1f} MiB; RSS at 1/3 {third / 2**20:.1f} MiB, "
          f"at end {rss_by_minute[-1] / 2**20:.1f} MiB: growth x{growth:.3f} "
          f"(limit x{GROWTH_LIMIT})")
    ok = growth <= GROWTH_LIMIT and stored == per_feed * args.feeds
    print("OK" if ok else "FAIL: memory grew or articles were lost")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
