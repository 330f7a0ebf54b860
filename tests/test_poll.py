"""Poll stage + storage against the real local site and both database backends."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config.feeds import FeedSpec
from config.settings import Settings
from pipeline.ingest.feeds import poll_feed
from pipeline.ingest.fetch import Fetcher
from storage import queries
from storage.db import Database, open_database
from storage.models import Article, ArticleSource, Feed, FetchAttempt
from storage.records import FeedState, PollResult
from tests.support.paths import corpus_names


def make_settings(**extra: object) -> Settings:
    return Settings(allowed_networks=["127.0.0.0/8"], respect_robots=False, **extra)


def add_feeds(db: Database, *specs: FeedSpec) -> dict[str, int]:
    with db.transaction() as s:
        queries.sync_feeds(specs, session=s, default_interval=900)
    with db.session() as s:
        return {f.name: f.id for f in s.scalars(select(Feed))}


def poll_and_record(db: Database, settings: Settings, name: str) -> PollResult:
    with db.session() as s:
        feed = s.scalar(select(Feed).where(Feed.name == name))
        state = FeedState(feed.id, feed.name, feed.url, feed.etag, feed.last_modified,
                          feed.interval_s, feed.consecutive_errors)

    async def go() -> PollResult:
        async with Fetcher(settings) as fetcher:
            return await poll_feed(fetcher, state, max_entries=settings.max_entries_per_feed)

    result = asyncio.run(go())
    limits = queries.PollLimits(settings.min_poll_interval, settings.max_backoff,
                                settings.park_after_errors)
    with db.transaction() as s:
        queries.record_poll(result, session=s, limits=limits)
    return result


def feed_row(db: Database, name: str) -> Feed:
    with db.session() as s:
        return s.scalar(select(Feed).where(Feed.name == name))


def count(db: Database, model: type) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_poll_stores_entries_then_304_and_restart_resumes(db: Database, db_url: str, site):
    settings = make_settings()
    add_feeds(db, FeedSpec("site", site.url("/feed/site.xml?n=12")))
    first = poll_and_record(db, settings, "site")
    assert first.status == 200 and len(first.entries) == 12
    assert count(db, Article) == 12
    assert feed_row(db, "site").last_new_items == 12
    second = poll_and_record(db, settings, "site")
    assert second.status == 304 and second.entries == ()
    # A restart is a new process: only the database carries the state over.
    db.dispose()
    reopened = open_database(db_url)
    feed = feed_row(reopened, "site")
    assert feed.etag and feed.last_modified and feed.last_status == 304
    assert feed.next_due > queries.utcnow() + timedelta(minutes=10)
    with reopened.session() as s:
        assert queries.due_feeds(session=s, now=queries.utcnow()) == []
    third = poll_and_record(reopened, settings, "site")
    assert third.status == 304
    assert count(reopened, Article) == 12
    reopened.dispose()


def test_same_story_from_two_feeds_is_stored_once(db: Database, site):
    settings = make_settings()
    add_feeds(db, FeedSpec("a", site.url("/feed/site.xml?n=5")),
              FeedSpec("b", site.url("/feed/site.xml?n=5&offset=2")))
    poll_and_record(db, settings, "a")
    poll_and_record(db, settings, "b")
    assert count(db, Article) == 7  # offsets 0-4 and 2-6 overlap on three stories
    assert count(db, ArticleSource) == 10


def test_feed_switching_guids_does_not_duplicate(db: Database, site):
    counter = {"n": 0}
    item = site.url("/pages/" + site.page_keys()[0] + ".html")

    def handler(request):  # noqa: ANN001, ANN202
        counter["n"] += 1
        body = (f"<rss version='2.0'><channel><title>t</title><item><title>x</title>"
                f"<link>{item}?utm_source=rss&amp;n={counter['n']}</link>"
                f"<guid isPermaLink='false'>guid-{counter['n']}</guid></item></channel></rss>")
        request.send(200, body.encode(), {"Content-Type": "application/rss+xml"})

    site.route("/switching-guids.xml", handler=handler)
    settings = make_settings()
    add_feeds(db, FeedSpec("sw", site.url("/switching-guids.xml")))
    for _ in range(3):
        poll_and_record(db, settings, "sw")
    # n= differs per poll, so the URL differs: this must be folded by text hash later;
    # the utm_ parameter alone must already fold here.
    with db.session() as s:
        urls = list(s.scalars(select(Article.url)))
    assert all("utm_" not in u for u in urls)


def test_permanent_redirect_moves_feed(db: Database, site):
    target = site.url("/feed/site.xml?n=2")
    site.route("/old-feed.xml", status=301, headers={"Location": target})
    add_feeds(db, FeedSpec("moved", site.url("/old-feed.xml")))
    result = poll_and_record(db, make_settings(), "moved")
    assert result.ok and result.moved_to == target
    assert feed_row(db, "moved").url == target
    etag = feed_row(db, "moved").etag
    assert etag
    # A restart syncs the feeds file, which still names the old URL: the move stays.
    add_feeds(db, FeedSpec("moved", site.url("/old-feed.xml")))
    row = feed_row(db, "moved")
    assert (row.url, row.moved_from, row.etag) == (target, site.url("/old-feed.xml"), etag)
    # The researcher pointing the file at another URL is a real change.
    add_feeds(db, FeedSpec("moved", site.url("/feed/site.xml?n=3")))
    row = feed_row(db, "moved")
    assert (row.url, row.moved_from, row.etag) == (site.url("/feed/site.xml?n=3"), None, None)


def test_temporary_redirect_keeps_feed_url(db: Database, site):
    old = site.url("/redirect/302?to=/feed/site.xml?n=2")
    add_feeds(db, FeedSpec("temp", old))
    assert poll_and_record(db, make_settings(), "temp").ok
    assert feed_row(db, "temp").url == old


def test_gone_feed_is_disabled(db: Database, site):
    add_feeds(db, FeedSpec("gone", site.url("/status/410")))
    result = poll_and_record(db, make_settings(), "gone")
    assert result.error == "http_410"
    feed = feed_row(db, "gone")
    assert not feed.enabled and "410" in feed.disabled_reason
    with db.session() as s:
        assert queries.due_feeds(session=s, now=queries.utcnow() + timedelta(days=30)) == []


@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_is_honoured(db: Database, site, code: int):
    add_feeds(db, FeedSpec("busy", site.url(f"/status/{code}?retry_after=7200")))
    before = queries.utcnow()
    result = poll_and_record(db, make_settings(), "busy")
    assert result.retry_after == pytest.approx(7200, abs=1)
    feed = feed_row(db, "busy")
    assert feed.next_due >= before + timedelta(seconds=7200)
    assert feed.consecutive_errors == 1 and feed.enabled


def test_errors_back_off_exponentially_and_park(db: Database, site):
    settings = make_settings(park_after_errors=3, max_backoff="1h", min_poll_interval="1s")
    add_feeds(db, FeedSpec("broken", site.url("/status/500"), interval_s=60))
    waits = []
    for _ in range(3):
        start = queries.utcnow()
        poll_and_record(db, settings, "broken")
        waits.append((feed_row(db, "broken").next_due - start).total_seconds())
    assert waits[0] < waits[1] < waits[2] <= 3600 + 5
    feed = feed_row(db, "broken")
    assert not feed.enabled and feed.disabled_reason.startswith("parked")
    assert feed.last_error.startswith("http_500")
    assert count(db, FetchAttempt) == 3


def test_unreachable_feed_records_reason(db: Database):
    add_feeds(db, FeedSpec("closed", "http://127.0.0.1:9/feed.xml"))
    result = poll_and_record(db, make_settings(), "closed")
    assert not result.ok and result.error
    assert feed_row(db, "closed").consecutive_errors == 1


@pytest.mark.parametrize("name", corpus_names("feeds"))
def test_every_corpus_feed_has_a_defined_outcome(sqlite_url: str, site, name: str):
    """Real and broken feeds: entries parsed, or a recorded error. Never a crash."""
    db = open_database(sqlite_url)
    add_feeds(db, FeedSpec("f", site.url(f"/feeds/{name}")))
    result = poll_and_record(db, make_settings(), "f")
    feed = feed_row(db, "f")
    if result.ok:
        # Parsed: entries, or skipped entries with their reason, or a recorded complaint.
        assert result.entries or result.skipped_entries or feed.bozo, name
        assert count(db, Article) == len(result.entries)
        with db.session() as s:
            attempt = s.scalar(select(FetchAttempt))
        assert attempt.entries == len(result.entries)
        assert attempt.skipped == result.skipped_entries
        if result.skipped_entries:
            assert "skipped" in attempt.error
        assert all(e.link.startswith(("http://", "https://")) for e in result.entries)
    else:
        assert feed.last_error and feed.consecutive_errors == 1
    db.dispose()


def test_feeds_file_removal_disables_but_keeps_state(db: Database, site, tmp_path: Path):
    add_feeds(db, FeedSpec("keep", site.url("/feed/site.xml?n=1")),
              FeedSpec("drop", site.url("/feed/site.xml?n=2")))
    poll_and_record(db, make_settings(), "drop")
    add_feeds(db, FeedSpec("keep", site.url("/feed/site.xml?n=1")))
    drop = feed_row(db, "drop")
    assert not drop.enabled and drop.disabled_reason == "removed" and drop.etag
    add_feeds(db, FeedSpec("keep", site.url("/feed/site.xml?n=1")),
              FeedSpec("drop", site.url("/feed/site.xml?n=2")))
    assert feed_row(db, "drop").enabled and feed_row(db, "drop").etag == drop.etag
