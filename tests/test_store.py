"""Storing read pages: dedup by text hash, language gate, retries with recorded reasons."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from config.feeds import FeedSpec
from pipeline.ingest.articles import read_article
from storage import queries
from storage.db import Database
from storage.models import Article, Feed
from storage.records import FeedEntry

GERMAN = ("<html lang='de'><head><title>Haushalt</title></head><body><article><p>"
          + "Die Bundesregierung hat am Mittwoch den Haushalt für das kommende Jahr "
            "beschlossen, der deutlich höhere Ausgaben für die Verteidigung vorsieht. " * 8
          + "</p></article></body></html>")
ENGLISH = ("<html lang='en'><head><title>Budget</title></head><body><article><p>"
           + "The government approved next year's budget on Wednesday, with much higher "
             "spending on defence and a new fund for Ukraine. " * 8
           + "</p></article></body></html>")


def pending(db: Database, *urls: str) -> list[int]:
    now = queries.utcnow()
    with db.transaction() as s:
        queries.sync_feeds([FeedSpec("f", "https://example.org/rss")], session=s,
                           default_interval=900)
        feed_id = s.scalar(select(Feed.id))
        queries.add_entries([FeedEntry(feed_id, u, None, None, None) for u in urls],
                            session=s, now=now)
        return [s.scalar(select(Article.id).where(Article.url == u)) for u in urls]


def test_language_gate_and_text_dedup(db: Database):
    de, en, en_twin = pending(db, "https://a.example/de", "https://a.example/en",
                              "https://b.example/en-copy")
    with db.transaction() as s:
        assert queries.store_article(de, read_article(GERMAN, "https://a.example/de"),
                                     session=s, languages=["en"]) == "skipped"
        assert queries.store_article(en, read_article(ENGLISH, "https://a.example/en"),
                                     session=s, languages=["en"]) == "fetched"
        assert queries.store_article(en_twin, read_article(ENGLISH, "https://b.example/x"),
                                     session=s, languages=["en"]) == "skipped"
    with db.session() as s:
        rows = {a.id: a for a in s.scalars(select(Article))}
    assert rows[de].skip_reason == "language_de" and rows[de].text  # kept, not analysed
    assert rows[en_twin].skip_reason == "duplicate_text" and rows[en_twin].duplicate_of == en
    with db.session() as s:
        due = queries.pending_extraction(session=s, now=queries.utcnow(), limit=10)
    assert [i for i, _ in due] == [en]


def test_failures_retry_then_give_up_with_reason(db: Database):
    (article,) = pending(db, "https://a.example/flaky")
    for attempt in range(1, 4):
        with db.transaction() as s:
            status = queries.record_page_failure(article, "http_503", "HTTP 503", session=s,
                                                 status=503, max_attempts=3, retry_after=60)
        with db.session() as s:
            row = s.get(Article, article)
            claimable = queries.claim_pending(session=s, now=queries.utcnow(), limit=10)
        if attempt < 3:
            assert status == "pending" and row.skip_reason == "retrying: http_503"
            assert row.next_attempt > queries.utcnow() + timedelta(seconds=59)
            assert claimable == []  # not before its retry time
    assert status == "failed" and row.skip_reason == "http_503 after 3 attempts"


def test_permanent_failure_is_skipped_at_once(db: Database):
    (article,) = pending(db, "https://a.example/missing")
    with db.transaction() as s:
        status = queries.record_page_failure(article, "http_404", "HTTP 404", session=s,
                                             status=404, max_attempts=3)
    assert status == "skipped"


def test_an_article_the_model_cannot_take_fails_alone(db: Database):
    """spaCy refuses texts over nlp.max_length (1M characters); the others still get done."""
    import threading

    from config.settings import Settings
    from pipeline.daemon.process import CycleStats, extract_fetched

    huge, fine = pending(db, "https://a.example/huge", "https://a.example/fine")
    with db.transaction() as s:
        queries.store_article(huge, read_article(ENGLISH, "https://a.example/huge"), session=s)
        s.get(Article, huge).text = "NATO met. " * 120_000  # 1.2M characters, a new hash
        queries.store_article(fine, read_article(ENGLISH.replace("budget", "plan"),
                                                 "https://a.example/fine"), session=s)
    stats = CycleStats()
    extract_fetched(db, Settings(extract_batch_size=8), stats, threading.Event())
    with db.session() as s:
        rows = {a.id: a for a in s.scalars(select(Article))}
    assert rows[fine].status == "extracted" and stats.extracted == 1
    assert rows[huge].status == "failed" and rows[huge].skip_reason.startswith("extract_failed")


def test_page_date_wins_over_the_feed_date_and_language_is_never_empty(db: Database):
    """A feed that stamps every item with today must not file a 2019 page under today."""
    now = queries.utcnow()
    with db.transaction() as s:
        queries.sync_feeds([FeedSpec("f", "https://example.org/rss")], session=s,
                           default_interval=900)
        feed_id = s.scalar(select(Feed.id))
        queries.add_entries([FeedEntry(feed_id, "https://a.example/old", None, None, now)],
                            session=s, now=now)
        article_id = s.scalar(select(Article.id))
    dated = ENGLISH.replace("<html lang='en'>", "<html>").replace(
        "<head>", '<head><meta property="article:published_time" content="2019-03-04T10:00:00Z">')
    with db.transaction() as s:
        queries.store_article(article_id, read_article(dated, "https://a.example/old"), session=s)
    with db.session() as s:
        row = s.get(Article, article_id)
    assert row.published is not None and row.published.date().isoformat() == "2019-03-04"
    assert row.language == "en"  # no lang attribute: detected from the text
