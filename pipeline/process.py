"""One cycle of the daemon: poll due feeds, fetch new pages, read, extract, store.

1. poll     due feeds concurrently; each result commits in its own transaction
            together with the feed's validators (see storage.queries.record_poll)
2. fetch    pending pages concurrently (per-host limits live in the Fetcher)
3. read     main text with trafilatura; each page commits on its own
4. extract  fetched articles in nlp.pipe batches; each article's rows commit
            with its status flip to ``extracted``, so a crash re-does at most
            the article in hand and never leaves half an analysis
Every unit checks ``stop`` before it starts, so SIGTERM finishes the unit in
hand and returns. All state is in the database: a new process resumes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from config.errors import FetchError, HTTPStatusError, ReadError, Stopped
from config.settings import Settings
from pipeline.articles import read_article
from pipeline.feeds import poll_feed
from pipeline.fetch import Fetcher
from pipeline.records import PollResult
from storage import queries
from storage.db import Database

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class CycleStats:
    feeds_polled: int = 0
    feeds_failed: int = 0
    new_articles: int = 0
    pages_fetched: int = 0
    pages_failed: int = 0
    duplicates: int = 0
    extracted: int = 0
    dispatched_pages: int = 0  # sent to Celery workers (NEWSMON_BROKER_URL)
    dispatched_articles: int = 0
    errors: list[str] = field(default_factory=list)


def _limits(settings: Settings) -> queries.PollLimits:
    return queries.PollLimits(settings.min_poll_interval, settings.max_backoff,
                              settings.park_after_errors)


async def poll_due(db: Database, fetcher: Fetcher, settings: Settings, stats: CycleStats,
                   stop: threading.Event, progress: Progress | None = None) -> None:
    with db.session() as session:
        due = queries.due_feeds(session=session, now=queries.utcnow())
    limits = _limits(settings)
    slots = asyncio.Semaphore(settings.max_connections)

    async def one(feed):  # noqa: ANN001, ANN202
        async with slots:
            if stop.is_set():  # checked once a slot is ours, so a stop drains quickly
                return None
            try:
                return await poll_feed(fetcher, feed, max_entries=settings.max_entries_per_feed)
            except Stopped:
                return None

    tasks = [asyncio.create_task(one(feed)) for feed in due]
    for done, task in enumerate(asyncio.as_completed(tasks), 1):
        result: PollResult | None = await task
        if result is None:
            continue
        with db.transaction() as session:
            stats.new_articles += queries.record_poll(result, session=session, limits=limits)
        stats.feeds_polled += 1
        if not result.ok:
            stats.feeds_failed += 1
            log.warning("feed poll failed", extra={"feed_id": result.feed_id,
                                                   "reason": result.error})
        if progress:
            progress("poll", done, len(tasks))


async def fetch_pending(db: Database, fetcher: Fetcher, settings: Settings, stats: CycleStats,
                        stop: threading.Event, progress: Progress | None = None,
                        limit: int = 5000) -> None:
    with db.session() as session:
        pending = queries.claim_pending(session=session, now=queries.utcnow(), limit=limit)
    await fetch_articles(db, fetcher, settings, pending, stats, stop, progress)


async def fetch_articles(db: Database, fetcher: Fetcher, settings: Settings,
                         items: list[tuple[int, str]], stats: CycleStats, stop: threading.Event,
                         progress: Progress | None = None) -> None:
    """Fetch, read and store these (id, url) pages; each page commits on its own."""
    slots = asyncio.Semaphore(settings.max_connections)

    async def one(article_id: int, url: str):  # noqa: ANN202
        async with slots:
            if stop.is_set():
                return article_id, None
            try:
                page = await fetcher.get(url, kind="page")
                return article_id, await asyncio.to_thread(
                    read_article, page.body, page.url,
                    content_type=page.headers.get("content-type"),
                )
            except Stopped:
                return article_id, None  # never sent: left pending for the next start
            except (FetchError, ReadError) as exc:
                return article_id, exc

    tasks = [asyncio.create_task(one(a, u)) for a, u in items]
    for done, task in enumerate(asyncio.as_completed(tasks), 1):
        article_id, outcome = await task
        if outcome is None:
            continue
        _store_page(db, settings, article_id, outcome, stats)
        if progress:
            progress("fetch", done, len(tasks))


def _store_page(db: Database, settings: Settings, article_id: int, outcome: object,
                stats: CycleStats) -> None:
    with db.transaction() as session:
        if isinstance(outcome, FetchError | ReadError):
            status = outcome.status if isinstance(outcome, HTTPStatusError) else None
            retry = outcome.retry_after if isinstance(outcome, HTTPStatusError) else None
            queries.record_page_failure(
                article_id, outcome.reason, str(outcome), session=session, status=status,
                max_attempts=max(1, settings.fetch_retries), retry_after=retry,
            )
            stats.pages_failed += 1
        else:
            new_status = queries.store_article(article_id, outcome, session=session,
                                               languages=settings.languages)
            stats.pages_fetched += 1
            stats.duplicates += new_status == "skipped"


def extract_fetched(db: Database, settings: Settings, stats: CycleStats, stop: threading.Event,
                    progress: Progress | None = None) -> None:
    """Analyse fetched articles in batches until none are left or we are told to stop."""
    while not stop.is_set():
        with db.session() as session:
            batch = queries.pending_extraction(session=session, now=queries.utcnow(),
                                               limit=settings.extract_batch_size)
        if not batch:
            return
        extract_articles(db, settings, batch, stats, stop, progress)


def extract_articles(db: Database, settings: Settings, items: list[tuple[int, str]],
                     stats: CycleStats, stop: threading.Event,
                     progress: Progress | None = None) -> None:
    """Analyse (id, text) items; each article's rows commit with its status flip."""
    from pipeline.analysis import Extractor

    extractor = Extractor.shared(settings)
    for article_id, analysis in extractor.run(items):
        with db.transaction() as session:
            extractor.store(int(article_id), analysis, session=session)
        stats.extracted += 1
        if progress:
            progress("extract", stats.extracted, stats.extracted + len(items))
        if stop.is_set():
            return


def run_cycle(db: Database, settings: Settings, *, stop: threading.Event | None = None,
              progress: Progress | None = None, extract: bool = True,
              remote: bool = False) -> CycleStats:
    """Poll, fetch and read, then extract: one full pass over what is due.

    ``remote``: poll here, then send fetching and extraction to Celery workers.
    """
    stop = stop or threading.Event()
    stats = CycleStats()

    async def ingest() -> None:
        async with Fetcher(settings, stop=stop) as fetcher:
            await poll_due(db, fetcher, settings, stats, stop, progress)
            if not stop.is_set() and not remote:
                await fetch_pending(db, fetcher, settings, stats, stop, progress)

    asyncio.run(ingest())
    if remote and not stop.is_set():
        from pipeline.tasks import dispatch

        stats.dispatched_pages, stats.dispatched_articles = dispatch(db, settings)
    elif extract and not stop.is_set():
        extract_fetched(db, settings, stats, stop, progress)
    return stats
