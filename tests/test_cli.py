"""The CLI end to end: real commands over the local site, real files, a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from pipeline.cli import cli
from storage.db import open_database
from storage.models import Article, FetchAttempt, Mention, Quote
from tests.support.paths import DATA
from tests.support.site import page_html, page_keys


@pytest.fixture
def env(tmp_path: Path, site) -> dict[str, str]:  # noqa: ANN001
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(
        f'[[feed]]\nname = "site"\nurl = "{site.url("/feed/site.xml?n=6&offset=100")}"\n'
        f'[[feed]]\nname = "dupes"\nurl = "{site.url("/feed/site.xml?n=3&offset=103")}"\n'
        f'[[feed]]\nname = "dead"\nurl = "{site.url("/status/404")}"\n'
    )
    return {"NEWSMON_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "NEWSMON_FEEDS_FILE": str(feeds), "NEWSMON_ALLOWED_NETWORKS": "127.0.0.0/8"}


def invoke(env: dict[str, str], *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_fetch_once_then_status(env: dict[str, str]):
    out = invoke(env, "fetch", "--once")
    assert "new articles" in out and "extracted" in out
    db = open_database(env["NEWSMON_DATABASE_URL"])
    with db.session() as s:
        statuses = dict(s.execute(select(Article.status, func.count())
                                  .group_by(Article.status)).all())
        assert statuses == {"extracted": 6}  # the 3 stories of "dupes" are the same 3 URLs
        assert s.scalar(select(func.count()).select_from(Mention)) > 0
        assert s.scalar(select(func.count()).select_from(Quote)) > 0  # who said what, stored
        assert s.scalar(select(func.count()).select_from(FetchAttempt)
                        .where(FetchAttempt.outcome == "http_404")) == 1
    db.dispose()
    status = json.loads(invoke(env, "status", "--json"))
    by_name = {f["name"]: f for f in status["feeds"]}
    # The two feeds are polled concurrently: whichever lands first owns the 3 shared stories.
    assert by_name["site"]["new_items"] + by_name["dupes"]["new_items"] == 6
    assert by_name["dead"]["consecutive_errors"] == 1
    assert "http_404" in by_name["dead"]["last_error"]
    assert status["articles"] == {"extracted": 6}
    table = invoke(env, "status")
    assert "dead" in table and "http_404" in table


def test_fetch_once_polls_every_feed_each_time(env: dict[str, str]):
    """Twice in a row: every feed polled both times, the second answered 304, even the
    feed that failed (it is in backoff) is tried again; --due polls only what is due."""
    first = invoke(env, "fetch", "--once")
    assert "feeds: 3 polled of 3 enabled" in first
    second = invoke(env, "fetch", "--once")
    assert "feeds: 3 polled of 3 enabled" in second and "next poll due at" in second
    db = open_database(env["NEWSMON_DATABASE_URL"])
    with db.session() as s:
        statuses = list(s.scalars(select(FetchAttempt.status).where(FetchAttempt.kind == "feed")
                                  .order_by(FetchAttempt.id)))
    db.dispose()
    assert len(statuses) == 6 and statuses[3:].count(304) == 2  # the two live feeds
    due = invoke(env, "fetch", "--once", "--due")
    assert "feeds: 0 polled of 3 enabled" in due and "3 not due yet (--due)" in due


def test_feeds_add_list_remove(env: dict[str, str]):
    invoke(env, "feeds", "add", "Extra", "https://example.org/rss", "--interval", "2h",
           "--tag", "a", "--tag", "b")
    rows = [json.loads(line) for line in invoke(env, "feeds", "list", "--json").splitlines()]
    assert rows[-1] == {"name": "Extra", "url": "https://example.org/rss", "tags": ["a", "b"],
                        "interval_s": 7200}
    invoke(env, "feeds", "remove", "Extra")
    assert "Extra" not in invoke(env, "feeds", "list")
    bad = CliRunner().invoke(cli, ["feeds", "add", "X", "ftp://x/y"], env=env)
    assert bad.exit_code != 0


def test_read_prints_json_lines_for_files(tmp_path: Path, env: dict[str, str]):
    page = tmp_path / "story.html"
    page.write_bytes(page_html(page_keys()[0]))
    line = json.loads(invoke(env, "read", str(page)))
    assert line["id"] == "story"
    assert set(line) == {"id", "text", "title", "published", "authors", "language"}
    assert len(line["text"]) > 200


def test_read_url_goes_through_the_guards(env: dict[str, str], site):  # noqa: ANN001
    url = site.url("/pages/" + site.page_keys()[5] + ".html")
    line = json.loads(invoke(env, "read", url))
    assert line["id"] == url and line["text"]
    closed = {**env, "NEWSMON_ALLOWED_NETWORKS": ""}
    result = CliRunner().invoke(cli, ["read", url], env=closed)
    assert result.exit_code != 0


def test_extract_json_is_the_spec_shape(env: dict[str, str]):
    seed = DATA / "articles" / "alliance-aid-plan.txt"
    line = json.loads(invoke(env, "extract", "--json", str(seed)))
    assert line["id"] == "alliance-aid-plan"
    assert {"actors", "amounts", "stances", "events"} <= set(line)
    amount = next(a for a in line["amounts"] if a["value"] == 100_000_000_000)
    assert amount["currency"] == "USD" and amount["period_years"] == 5
    assert amount["recipient"] == "Ukraine"
    assert any(s["holder"] == "White House" and s["polarity"] == "oppose"
               for s in line["stances"])


def test_db_upgrade(env: dict[str, str]):
    assert "schema at revision" in invoke(env, "db", "upgrade")


def test_missing_model_names_the_setting(env: dict[str, str], tmp_path: Path):
    text = tmp_path / "a.txt"
    text.write_text("NATO met in Brussels.")
    result = CliRunner().invoke(cli, ["extract", str(text)],
                                env={**env, "NEWSMON_SPACY_MODEL": "no_such_model_xyz"},
                                standalone_mode=True)
    assert result.exit_code != 0
    assert "NEWSMON_SPACY_MODEL" in str(result.exception) + result.output


def test_reprocess_replaces_rows_without_duplicating(env: dict[str, str]):
    invoke(env, "fetch", "--once")
    db = open_database(env["NEWSMON_DATABASE_URL"])

    def snapshot() -> list[tuple]:
        with db.session() as s:
            return sorted(s.execute(select(Mention.article_id, Mention.actor_id, Mention.start,
                                           Mention.end)).all())

    before = snapshot()
    with db.transaction() as s:  # an old extractor's rows, as after an upgrade
        s.execute(Article.__table__.update().values(extractor_version="0.0.1"))
    assert "re-extracted 6 of 6" in invoke(env, "reprocess")
    assert snapshot() == before
    with db.session() as s:
        versions = set(s.scalars(select(Article.extractor_version)))
        days = set(s.scalars(select(Mention.day)))
    assert "0.0.1" not in versions and None not in days
    assert "re-extracted 0 of 0" in invoke(env, "reprocess", "--since", "2999-01-01")
    db.dispose()


def test_a_refusal_names_its_fix_in_status(env: dict[str, str]):
    """With no networks allowed the local site is refused; status says which setting allows it."""
    closed = {**env, "NEWSMON_ALLOWED_NETWORKS": ""}
    invoke(closed, "fetch", "--once")
    status = json.loads(invoke(closed, "status", "--json"))
    errors = [f["last_error"] for f in status["feeds"]]
    assert errors and all("NEWSMON_ALLOWED_NETWORKS=127.0.0.0/8" in e for e in errors)
    assert "NEWSMON_ALLOWED_NETWORKS" in invoke(closed, "status")
