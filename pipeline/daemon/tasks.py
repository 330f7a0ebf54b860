"""Scale-out: the fetch and extract stages as Celery tasks (Redis or RabbitMQ broker).

With ``NEWSMON_BROKER_URL`` set, the daemon still polls feeds itself (that is
cheap and must be serial per feed), but sends page fetching and extraction to
``newsmon worker`` processes on any number of machines sharing the
PostgreSQL database. The tasks call the same stage functions as the
in-process path, so both behave the same; only the transport differs.

Exactly-once without a hand-made queue: dispatching puts a hold on the
articles (``next_attempt``) in the same transaction that reads them, so the
next tick does not send them again; a worker that dies lets the hold expire
and the article is sent again. Storing is idempotent (an article's rows are
replaced whole), so a redelivered task is harmless. ``acks_late`` makes the
broker redeliver a task whose worker vanished.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

from celery import Celery

from config.settings import Settings, load_settings
from pipeline.daemon.process import CycleStats, extract_articles, fetch_articles
from pipeline.ingest.fetch import Fetcher
from storage import queries
from storage.db import Database, open_database

app = Celery("newsmon")
app.conf.update(
    task_default_queue="newsmon",
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    result_backend=None,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
)

# How long a dispatched article is held before it may be sent again.
HOLD = timedelta(minutes=15)
FETCH_CHUNK = 20

_state: dict[str, object] = {}


def configure(settings: Settings) -> None:
    """Point the Celery app at the broker of these settings (the worker's entry point).

    The daemon does not rely on this global: ``dispatch`` opens a connection to
    its own settings' broker and publishes through it."""
    app.conf.broker_url = settings.broker_url
    if _state.get("settings") != settings:
        old = _state.pop("db", None)
        if isinstance(old, Database):
            old.dispose()
    _state["settings"] = settings


def _context() -> tuple[Settings, Database]:
    # A worker process builds its settings and database once, on its first task.
    if "settings" not in _state:
        _state["settings"] = load_settings()
    if "db" not in _state:
        settings = _state["settings"]
        assert isinstance(settings, Settings)
        _state["db"] = open_database(settings.database_url)
    return _state["settings"], _state["db"]  # type: ignore[return-value]


@app.task(name="newsmon.fetch_pages")
def fetch_pages(items: list[list[int | str]]) -> dict[str, int]:
    settings, db = _context()
    stats = CycleStats()
    # A task can outlive its hold in a long queue, and the article is sent again;
    # whichever copy runs second finds it no longer pending and leaves it alone.
    with db.session() as session:
        waiting = queries.still_pending([int(i) for i, _ in items], session=session)
    pairs = [(int(i), str(u)) for i, u in items if int(i) in waiting]
    if not pairs:
        return {"fetched": 0, "failed": 0}

    async def go() -> None:
        async with Fetcher(settings) as fetcher:
            await fetch_articles(db, fetcher, settings, pairs, stats, threading.Event())

    asyncio.run(go())
    return {"fetched": stats.pages_fetched, "failed": stats.pages_failed}


@app.task(name="newsmon.extract")
def extract(article_ids: list[int]) -> dict[str, int]:
    settings, db = _context()
    with db.session() as session:
        items = queries.texts_of(article_ids, session=session)
    stats = CycleStats()
    extract_articles(db, settings, items, stats, threading.Event())
    return {"extracted": stats.extracted}


def dispatch(db: Database, settings: Settings, *, limit: int = 5000) -> tuple[int, int]:
    """Send due pages and fetched articles to the workers; returns (pages, articles)."""
    configure(settings)
    now = queries.utcnow()
    with db.transaction() as session:
        pages = queries.claim_pending(session=session, now=now, limit=limit)
        texts = queries.extraction_due_ids(session=session, now=now, limit=limit)
        queries.hold([i for i, _ in pages] + texts, session=session, until=now + HOLD)
    with app.connection_for_write(settings.broker_url) as connection:
        for start in range(0, len(pages), FETCH_CHUNK):
            chunk = [[i, u] for i, u in pages[start:start + FETCH_CHUNK]]
            fetch_pages.apply_async((chunk,), connection=connection)
        size = settings.extract_batch_size
        for start in range(0, len(texts), size):
            extract.apply_async((texts[start:start + size],), connection=connection)
    return len(pages), len(texts)
