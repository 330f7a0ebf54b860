"""Scale-out for real: a `newsmon worker` process, a real broker, the real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from config.feeds import FeedSpec
from config.settings import Settings
from pipeline.daemon.scheduler import daemon_cycle
from pipeline.daemon.tasks import app as celery_app
from pipeline.daemon.tasks import configure
from storage import queries
from storage.db import open_database
from storage.models import Article, Mention
from tests.support.proc import stop_process

BROKERS = {
    "redis": "redis://127.0.0.1:6379/14",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//",
}


def article_states(db) -> dict[str, int]:  # noqa: ANN001
    with db.session() as s:
        return dict(s.execute(select(Article.status, func.count())
                              .group_by(Article.status)).all())


def wait_until(predicate, worker: subprocess.Popen, timeout: float = 120) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker.poll() is not None:
            pytest.fail(f"worker died: {worker.stderr.read()}")
        time.sleep(0.5)
    pytest.fail("workers did not finish in time")


@pytest.mark.postgres
@pytest.mark.timeout(300)
@pytest.mark.parametrize("broker", sorted(BROKERS))
def test_workers_fetch_and_extract_what_the_daemon_dispatches(broker: str, pg_url: str, site):
    url = BROKERS[broker]
    settings = Settings(database_url=pg_url, broker_url=url, allowed_networks=["127.0.0.0/8"],
                        respect_robots=False)
    configure(settings)
    try:
        celery_app.control.purge()  # leftovers of an earlier run must not leak in
    except Exception as exc:  # noqa: BLE001 - a missing broker is a clear failure here
        pytest.fail(f"broker {url} unreachable: {exc}")
    db = open_database(pg_url)
    with db.transaction() as s:
        queries.sync_feeds([FeedSpec("site", site.url("/feed/site.xml?n=5&offset=60"))],
                           session=s, default_interval=900)
    env = {**os.environ, "NEWSMON_DATABASE_URL": pg_url, "NEWSMON_BROKER_URL": url,
           "NEWSMON_ALLOWED_NETWORKS": "127.0.0.0/8", "NEWSMON_RESPECT_ROBOTS": "false"}
    worker = subprocess.Popen([sys.executable, "-m", "pipeline", "worker", "--concurrency", "1"],
                              env=env, text=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        first = daemon_cycle(db, settings)
        assert first.new_articles == 5 and first.dispatched_pages == 5
        assert daemon_cycle(db, settings).dispatched_pages == 0  # held, not resent
        wait_until(lambda: article_states(db).get("fetched") == 5, worker)
        assert daemon_cycle(db, settings).dispatched_articles == 5
        wait_until(lambda: article_states(db) == {"extracted": 5}, worker)
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(Mention)) > 0
    finally:
        stop_process(worker, timeout=60)
        db.dispose()


def test_a_redelivered_task_leaves_finished_articles_alone(db_url: str, site):  # noqa: ANN001
    """A backlog longer than the hold sends an article twice: the late copy must not
    fetch or analyse it again, nor mark it failed when its own fetch fails."""
    from pipeline.daemon import tasks

    settings = Settings(database_url=db_url, broker_url=BROKERS["redis"],
                        allowed_networks=["127.0.0.0/8"], respect_robots=False)
    configure(settings)
    db = open_database(db_url)
    with db.transaction() as s:
        queries.sync_feeds([FeedSpec("site", site.url("/feed/site.xml?n=2&offset=80"))],
                           session=s, default_interval=900)
    daemon_cycle(db, Settings(database_url=db_url, allowed_networks=["127.0.0.0/8"],
                              respect_robots=False))  # no broker: fetched and extracted here
    with db.session() as s:
        rows = list(s.execute(select(Article.id, Article.url, Article.extractor_version)))
    assert len(rows) == 2 and article_states(db) == {"extracted": 2}
    gone = site.url("/status/404")
    with db.transaction() as s:  # the late copy would now find the page gone
        s.execute(Article.__table__.update().where(Article.id == rows[0].id).values(url=gone))
    hits = site.hits["/status/404"]
    assert tasks.fetch_pages([[r.id, gone] for r in rows]) == {"fetched": 0, "failed": 0}
    assert tasks.extract([r.id for r in rows]) == {"extracted": 0}
    assert site.hits["/status/404"] == hits  # nothing was fetched
    assert article_states(db) == {"extracted": 2}
    with db.session() as s:
        assert list(s.execute(select(Article.id, Article.url, Article.extractor_version)
                              .order_by(Article.id)))[1:] == sorted(rows)[1:]
    db.dispose()
