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
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from config.settings import Settings
from extractors.records import Analysis
from pipeline.analysis.extract import Extractor
from pipeline.errors import FetchError, HTTPStatusError, ReadError, Stopped
from pipeline.ingest.articles import read_article, warm_up
from pipeline.ingest.feeds import poll_feed
from pipeline.ingest.fetch import Fetcher
from storage import queries
from storage.db import Database
from storage.records import PollResult

log = logging.getLogger(__name__)

# Work per round of a cycle (see run_cycle): big enough to keep connections busy,
# small enough that the first articles are analysed minutes, not hours, into a backlog.
PAGES_PER_ROUND = 200
ARTICLES_PER_ROUND = 200
# trafilatura and lxml parse in ONE thread: parsing is CPU-bound (the GIL gains nothing
# from more threads) and concurrent parses crashed the process ("free(): invalid pointer").
_READER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsmon-reader")

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class CycleStats:
    feeds_polled: int = 0
    feeds_failed: int = 0
    new_articles: int = 0
    pages_fetched: int = 0
    pages_failed: int = 0
    duplicates: int = 0  # the same text already stored under another URL
    skipped: Counter[str] = field(default_factory=Counter)  # other skips, by reason
    extracted: int = 0
    dispatched_pages: int = 0  # handed to worker processes (set by the daemon)
    dispatched_articles: int = 0
    errors: list[str] = field(default_factory=list)


def _limits(settings: Settings) -> queries.PollLimits:
    return queries.PollLimits(settings.min_poll_interval, settings.max_backoff,
                              settings.park_after_errors)


async def poll_due(db: Database, fetcher: Fetcher, settings: Settings, stats: CycleStats,
                   stop: threading.Event, progress: Progress | None = None, *,
                   poll_all: bool = False) -> None:
    with db.session() as session:
        due = queries.due_feeds(session=session, now=queries.utcnow(), everything=poll_all)
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
                read = partial(read_article, page.body, page.url,
                               content_type=page.headers.get("content-type"))
                return article_id, await asyncio.get_running_loop().run_in_executor(
                    _READER, read)
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
    try:
        counter = _store_page_rows(db, settings, article_id, outcome)
    except SQLAlchemyError as exc:
        # The database refused this page (e.g. a field the driver rejects): it fails
        # alone with the error, instead of aborting the round for every page after it.
        detail = f"{type(exc).__name__}: {exc}"
        with db.transaction() as session:
            queries.record_page_failure(article_id, "store_failed", detail, session=session,
                                        status=None, max_attempts=1)
        stats.pages_failed += 1
        stats.errors.append(f"article {article_id}: store_failed: {detail[:200]}")
        log.error("page not stored", extra={"article_id": article_id, "error": detail[:1000]})
        return
    # Counted once the transaction has committed.
    if counter == "failed":
        stats.pages_failed += 1
        return
    stats.pages_fetched += 1
    if counter == "duplicate_text":
        stats.duplicates += 1
    elif counter is not None:
        stats.skipped[counter] += 1


def _store_page_rows(db: Database, settings: Settings, article_id: int,
                     outcome: object) -> str | None:
    """Store one page or its failure; returns "failed", a skip reason, or None (stored)."""
    with db.transaction() as session:
        if isinstance(outcome, FetchError | ReadError):
            status = outcome.status if isinstance(outcome, HTTPStatusError) else None
            retry = outcome.retry_after if isinstance(outcome, HTTPStatusError) else None
            queries.record_page_failure(
                article_id, outcome.reason, str(outcome), session=session, status=status,
                max_attempts=max(1, settings.fetch_retries), retry_after=retry,
            )
            # The message says what to change where a setting is the cause.
            log.warning("page failed", extra={"article_id": article_id,
                                              "reason": outcome.reason, "error": str(outcome)})
            return "failed"
        new_status = queries.store_article(article_id, outcome, session=session,
                                           languages=settings.languages)
        if new_status != "skipped":
            return None
        return queries.skip_reason(article_id, session=session) or "skipped"


def extract_fetched(db: Database, settings: Settings, stats: CycleStats, stop: threading.Event,
                    progress: Progress | None = None, limit: int | None = None) -> int:
    """Analyse fetched articles in batches until none are left, ``limit`` are done
    or we are told to stop; returns how many were analysed."""
    done = 0
    while not stop.is_set() and (limit is None or done < limit):
        size = settings.extract_batch_size if limit is None else min(
            settings.extract_batch_size, limit - done)
        with db.session() as session:
            batch = queries.pending_extraction(session=session, now=queries.utcnow(),
                                               limit=size)
        if not batch:
            break
        before = stats.extracted
        extract_articles(db, settings, batch, stats, stop, progress)
        done += stats.extracted - before
    return done


def extract_articles(db: Database, settings: Settings, items: list[tuple[int, str]],
                     stats: CycleStats, stop: threading.Event,
                     progress: Progress | None = None) -> None:
    """Analyse (id, text) items; each article's rows commit with its status flip.

    A text the pipeline cannot analyse must not block the ones behind it for
    ever: a failing batch is retried one article at a time, and the article
    that fails alone is recorded as failed with the reason.
    """
    extractor = Extractor.shared(settings)
    try:
        analyses = list(extractor.run(items))
    except Exception as exc:  # noqa: BLE001 - third-party NLP code; the reason is stored
        if len(items) > 1:
            for item in items:
                extract_articles(db, settings, [item], stats, stop, progress)
            return
        _record_failure(db, int(items[0][0]), f"{type(exc).__name__}: {exc}", stats)
        return
    for article_id, analysis in analyses:
        if not _store_analysis(db, extractor, int(article_id), analysis, stats):
            continue
        stats.extracted += 1
        if progress:
            progress("extract", stats.extracted, stats.extracted + len(items))
        if stop.is_set():
            return


def _store_analysis(db: Database, extractor: Extractor, article_id: int, analysis: Analysis,
                    stats: CycleStats) -> bool:
    """Store one article's rows; a row the database refuses fails this article alone.

    Pending articles are taken in id order, so an article whose rows cannot be
    stored would otherwise come first again on every tick and stop extraction
    for good. A unique-key clash is retried once: another worker created the
    same new actor a moment earlier, and the retry finds it.
    """
    for attempt in (1, 2):
        try:
            with db.transaction() as session:
                extractor.store(article_id, analysis, session=session)
            return True
        except IntegrityError as exc:
            if attempt == 1:
                continue
            error = f"{type(exc).__name__} (after a retry): {exc}"
        except SQLAlchemyError as exc:
            error = f"{type(exc).__name__}: {exc}"
        break
    _record_failure(db, article_id, f"store_failed: {error}", stats)
    return False


def _record_failure(db: Database, article_id: int, detail: str, stats: CycleStats) -> None:
    with db.transaction() as session:
        queries.record_extract_failure(article_id, detail, session=session)
    stats.errors.append(f"article {article_id}: {detail[:200]}")
    log.error("article failed", extra={"article_id": article_id, "error": detail[:1000]})


def run_cycle(db: Database, settings: Settings, *, stop: threading.Event | None = None,
              progress: Progress | None = None, extract: bool = True,
              fetch: bool = True, poll_all: bool = False) -> CycleStats:
    """Poll feeds, then fetch and extract in rounds until nothing is left.

    Rounds keep a backlog from holding up extraction: articles fetched in the
    first round are analysed (and queryable) before the next round fetches more.
    ``fetch=False`` polls only (the daemon then hands the pages to workers);
    ``poll_all`` polls every enabled feed now, whatever its schedule.
    """
    stop = stop or threading.Event()
    stats = CycleStats()
    warm_up()

    async def cycle() -> None:
        async with Fetcher(settings, stop=stop) as fetcher:
            await poll_due(db, fetcher, settings, stats, stop, progress, poll_all=poll_all)
            while fetch and not stop.is_set():
                before = stats.pages_fetched + stats.pages_failed
                await fetch_pending(db, fetcher, settings, stats, stop, progress,
                                    limit=PAGES_PER_ROUND)
                analysed = 0
                if extract and not stop.is_set():
                    # In a thread so the event loop (and the Fetcher's pool) stays responsive.
                    analysed = await asyncio.to_thread(
                        extract_fetched, db, settings, stats, stop, progress,
                        ARTICLES_PER_ROUND)
                if stats.pages_fetched + stats.pages_failed == before and not analysed:
                    break

    asyncio.run(cycle())
    return stats
