"""Extraction against a changing world: edited data files, reprocessing, poison articles.

Real databases (a SQLite file and the real PostgreSQL server) and the real
spaCy pipeline; the only thing a test changes is data: a gazetteer file, a
lease row, a database trigger standing in for any row the database refuses.
"""

from __future__ import annotations

import shutil
import threading
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy import select

from config.settings import CONFIG_DIR, Settings
from pipeline.analysis.extract import version_of
from pipeline.cli import cli
from pipeline.daemon.process import CycleStats, extract_fetched
from pipeline.daemon.scheduler import LEASE_NAME
from storage import lease, queries
from storage.db import Database
from storage.models import Actor, Article, Mention

TEXTS = [
    "The Quorvian Assembly rejected the water-sharing plan on Tuesday, officials said.",
    "Germany welcomed the decision by the European Union to fund new schools in Kenya.",
    "NATO allies backed the United States in the dispute over air defence.",
]


def _articles(db: Database, texts: list[str]) -> list[int]:
    now = datetime(2026, 11, 30, 12, 0)
    with db.transaction() as s:
        rows = [Article(url=f"https://example.org/{i}", discovered_at=now, fetched_at=now,
                        text=t, language="en", status="fetched") for i, t in enumerate(texts)]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def _settings(db_url: str, actors: Path) -> Settings:
    return Settings(database_url=db_url, actors_file=actors)


def _extract(db: Database, settings: Settings) -> CycleStats:
    stats = CycleStats()
    extract_fetched(db, settings, stats, threading.Event())
    return stats


def test_edited_gazetteer_reaches_a_running_process(db: Database, db_url: str, tmp_path: Path):
    actors = tmp_path / "actors.toml"
    shutil.copy(CONFIG_DIR / "actors.toml", actors)
    settings = _settings(db_url, actors)
    _articles(db, TEXTS[:1])
    assert _extract(db, settings).extracted == 1
    old = version_of(settings)
    with actors.open("a", encoding="utf-8") as f:
        f.write('\n[[actor]]\nname = "Quorvia"\ntype = "GPE"\naliases = ["Quorvian Assembly"]\n')
    new = version_of(settings)
    assert new != old
    with db.transaction() as s:
        assert queries.reset_for_reprocess(session=s, since=None, keep_version=new) == 1
    assert _extract(db, settings).extracted == 1  # same process, same settings object
    with db.session() as s:
        assert set(s.scalars(select(Article.extractor_version))) == {new}
        assert s.scalar(select(Actor.type).where(Actor.name == "Quorvia")) == "GPE"
    with db.transaction() as s:  # nothing left that the current files did not produce
        assert queries.reset_for_reprocess(session=s, since=None, keep_version=new) == 0


def test_reprocess_queues_for_a_running_daemon(db: Database, db_url: str, tmp_path: Path):
    settings = _settings(db_url, CONFIG_DIR / "actors.toml")
    _articles(db, TEXTS)
    _extract(db, settings)
    with db.transaction() as s:
        s.execute(sa.update(Article).values(extractor_version="0.0.1"))
    # A daemon on another machine holds the lease.
    assert lease.acquire(db, name=LEASE_NAME, holder="elsewhere:4242", ttl=600) is None
    env = {"NEWSMON_DATABASE_URL": db_url, "NEWSMON_LOG_LEVEL": "WARNING"}
    result = CliRunner().invoke(cli, ["reprocess"], env=env, catch_exceptions=False)
    assert result.exit_code == 0
    assert "queued 3 articles for the running daemon (elsewhere:4242)" in result.output
    with db.session() as s:  # left for the daemon: this command analysed nothing
        assert set(s.scalars(select(Article.status))) == {"fetched"}
        assert s.scalar(select(lease.SchedulerLock.holder)) == "elsewhere:4242"


POISON = {
    "sqlite": ["CREATE TRIGGER poison BEFORE INSERT ON mentions WHEN NEW.article_id = {id} "
               "BEGIN SELECT RAISE(ABORT, 'poison row'); END"],
    "postgresql": [
        "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
        "IF NEW.article_id = {id} THEN RAISE EXCEPTION 'poison row'; END IF; RETURN NEW; END "
        "$$ LANGUAGE plpgsql",
        "CREATE TRIGGER poison BEFORE INSERT ON mentions FOR EACH ROW EXECUTE FUNCTION poison()",
    ],
}


def test_a_poison_article_fails_alone(db: Database, db_url: str):
    """The database refuses one article's rows: it fails with the reason, the rest go on."""
    ids = _articles(db, TEXTS)
    with db.transaction() as s:
        for statement in POISON[db.engine.dialect.name]:
            s.execute(sa.text(statement.format(id=ids[0])))
    settings = _settings(db_url, CONFIG_DIR / "actors.toml")
    stats = _extract(db, settings)
    assert stats.extracted == 2
    with db.session() as s:
        status = dict(s.execute(select(Article.id, Article.status)).all())
        reason = s.scalar(select(Article.skip_reason).where(Article.id == ids[0]))
    assert status == {ids[0]: "failed", ids[1]: "extracted", ids[2]: "extracted"}
    assert "store_failed" in reason and "poison row" in reason
    assert _extract(db, settings).extracted == 0  # not retried for ever


@pytest.mark.postgres
def test_an_actor_name_longer_than_the_column_is_stored(pg_url: str, tmp_path: Path):
    from storage.db import open_database

    db = open_database(pg_url)
    long_name = "Quorvian " + "Very " * 80 + "Assembly"
    actors = tmp_path / "actors.toml"
    shutil.copy(CONFIG_DIR / "actors.toml", actors)
    with actors.open("a", encoding="utf-8") as f:
        f.write(f'\n[[actor]]\nname = "{long_name}"\ntype = "ORG"\n'
                f'aliases = ["Quorvian Assembly"]\n')
    _articles(db, TEXTS)
    assert _extract(db, _settings(pg_url, actors)).extracted == 3
    with db.session() as s:
        stored = s.scalar(select(Actor.name).where(Actor.name.like("Quorvian%")))
        assert stored == long_name[:300]
        assert s.scalar(select(sa.func.count()).select_from(Mention)) > 0
    db.dispose()


PAGE_POISON = {
    "sqlite": ["CREATE TRIGGER poison BEFORE UPDATE OF text ON articles "
               "WHEN NEW.id = {id} AND NEW.text IS NOT NULL "
               "BEGIN SELECT RAISE(ABORT, 'poison page'); END"],
    "postgresql": [
        "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
        "IF NEW.id = {id} AND NEW.text IS NOT NULL THEN RAISE EXCEPTION 'poison page'; "
        "END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER poison BEFORE UPDATE ON articles FOR EACH ROW "
        "EXECUTE FUNCTION poison()",
    ],
}


def test_a_page_the_database_refuses_fails_alone(db: Database, db_url: str, site):  # noqa: ANN001
    from config.feeds import FeedSpec
    from pipeline.daemon.process import run_cycle

    with db.transaction() as s:
        queries.sync_feeds([FeedSpec("site", site.url("/feed/site.xml?n=3&offset=120"))],
                           session=s, default_interval=900)
    settings = Settings(database_url=db_url, allowed_networks=["127.0.0.0/8"],
                        respect_robots=False)
    run_cycle(db, settings, fetch=False)  # poll only: three pending articles
    with db.session() as s:
        ids = sorted(s.scalars(select(Article.id)))
    with db.transaction() as s:
        for statement in PAGE_POISON[db.engine.dialect.name]:
            s.execute(sa.text(statement.format(id=ids[0])))
    stats = run_cycle(db, settings, extract=False)
    assert stats.pages_fetched == 2 and stats.pages_failed == 1
    with db.session() as s:
        status = dict(s.execute(select(Article.id, Article.status)).all())
        reason = s.scalar(select(Article.skip_reason).where(Article.id == ids[0]))
    assert status == {ids[0]: "failed", ids[1]: "fetched", ids[2]: "fetched"}
    assert "store_failed" in reason
