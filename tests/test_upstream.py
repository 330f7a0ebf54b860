"""Upstream misbehaviour: each case ends in a recorded state and a bounded retry schedule.

Real servers on 127.0.0.1 (the session site, and an HTTPS server with a
self-signed certificate made by ``openssl`` here), real cycles
(``run_cycle(extract=False)``) on SQLite and PostgreSQL, and the real
``newsmon status`` command for a parked feed. 429/503 with Retry-After and
backoff-then-park are in test_poll.py; this file adds what is missing.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from config.feeds import FeedSpec
from config.settings import Settings
from pipeline.daemon.process import run_cycle
from pipeline.ingest.fetch import Fetcher
from storage import queries
from storage.db import Database
from storage.models import Article, Feed, FetchAttempt
from tests.support.site import Site


def make_settings(**extra: Any) -> Settings:
    values: dict[str, Any] = dict(allowed_networks=["127.0.0.0/8"], respect_robots=False,
                                  request_deadline=4, connect_timeout=2, read_timeout=2,
                                  fetch_retries=2, max_backoff="1h", min_poll_interval=0,
                                  poll_interval=0)
    values.update(extra)
    return Settings(**values)


def add_feeds(db: Database, *specs: FeedSpec) -> None:
    with db.transaction() as s:
        queries.sync_feeds(specs, session=s, default_interval=900)


def feed(db: Database, name: str) -> Feed:
    with db.session() as s:
        return s.scalar(select(Feed).where(Feed.name == name))


def make_due(db: Database) -> None:
    """Skip the wait for the next poll and retry (the schedule itself is checked before)."""
    with db.transaction() as s:
        s.execute(update(Feed).values(next_due=queries.utcnow()))
        s.execute(update(Article).where(Article.status == "pending")
                  .values(next_attempt=None))


def rss_over(links: list[str], guid_suffix: str = "") -> bytes:
    items = "".join(f"<item><title>t{i}</title><link>{link}</link>"
                    f"<guid isPermaLink='false'>g{i}{guid_suffix}</guid></item>"
                    for i, link in enumerate(links))
    return (f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>").encode()


# --- a TLS server whose certificate nobody trusts ----------------------------

@pytest.fixture(scope="module")
def bad_tls_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    where = tmp_path_factory.mktemp("tls")
    key, cert = where / "key.pem", where / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/feed.xml"
    server.shutdown()
    server.server_close()


def test_self_signed_tls_feed_records_tls_error_and_backs_off(db: Database, bad_tls_url: str):
    settings = make_settings(poll_interval=60)
    add_feeds(db, FeedSpec("tls", bad_tls_url, interval_s=60))
    before = queries.utcnow()
    run_cycle(db, settings, extract=False)
    row = feed(db, "tls")
    assert row.last_error.startswith("tls_error") and row.consecutive_errors == 1
    assert row.enabled and before + timedelta(seconds=60) <= row.next_due
    assert row.next_due <= before + timedelta(seconds=settings.max_backoff + 5)
    with db.session() as s:
        assert s.scalar(select(FetchAttempt.outcome)) == "tls_error"


# --- redirect loops -------------------------------------------------------------

def test_permanent_redirect_loop_is_recorded_and_feed_url_kept(db: Database, site: Site):
    a = site.route("/up/loop-a.xml", status=301, headers={"Location": "/up/loop-b.xml"})
    site.route("/up/loop-b.xml", status=301, headers={"Location": "/up/loop-a.xml"})
    add_feeds(db, FeedSpec("loop", a))
    settings = make_settings(park_after_errors=3)
    waits = []
    for _ in range(3):
        began = queries.utcnow()
        run_cycle(db, settings, extract=False)
        row = feed(db, "loop")
        if row.enabled:
            waits.append((row.next_due - began).total_seconds())
        make_due(db)
    row = feed(db, "loop")
    assert row.url == a  # a loop of 301s must not move the feed anywhere
    assert row.last_error.startswith("redirect_loop")
    assert not row.enabled and row.disabled_reason == "parked after 3 errors"
    assert waits == sorted(waits) and all(w <= settings.max_backoff + 5 for w in waits)


# --- pages that fail half-way, and their retry schedule ------------------------------

def test_page_failures_end_in_recorded_states_with_bounded_retries(db: Database, site: Site,
                                                                  bad_tls_url: str):
    tls_page = bad_tls_url.replace("/feed.xml", "/page.html")
    good = site.url(f"/pages/{site.page_keys()[3]}.html")
    links = [site.url("/truncated"), site.url("/status/503?retry_after=900"),
             site.url("/status/404"), tls_page, good]
    site.route("/up/pages.xml", body=rss_over(links), headers={"Content-Type": "text/xml"})
    add_feeds(db, FeedSpec("pages", site.url("/up/pages.xml")))
    settings = make_settings()
    began = queries.utcnow()
    run_cycle(db, settings, extract=False)
    with db.session() as s:
        rows = {a.url: a for a in s.scalars(select(Article))}
    truncated, busy, missing, tls, ok = (rows[u] for u in links)
    assert ok.status == "fetched"
    assert missing.status == "skipped" and missing.skip_reason == "http_404"  # permanent
    for row, reason in ((truncated, "protocol_error"), (busy, "http_503"), (tls, "tls_error")):
        assert row.status == "pending" and row.skip_reason == f"retrying: {reason}"
        assert row.next_attempt > began  # not hammered on the next tick
    assert busy.next_attempt >= began + timedelta(seconds=900)  # Retry-After honoured
    assert truncated.next_attempt <= began + timedelta(seconds=300 + 30)
    make_due(db)
    run_cycle(db, settings, extract=False)  # fetch_retries=2: the second failure gives up
    with db.session() as s:
        for url in links[:2] + [tls_page]:
            row = s.scalar(select(Article).where(Article.url == url))
            assert row.status == "failed" and row.attempts == 2, (url, row.skip_reason)
            assert row.skip_reason.endswith("after 2 attempts")


# --- GUIDs that change on every poll -------------------------------------------------

def test_switching_guids_and_urls_store_one_analysable_copy(db: Database, site: Site):
    key = site.page_keys()[7]
    polls = {"n": 0}

    def handler(request):  # noqa: ANN001, ANN202
        polls["n"] += 1
        body = rss_over([site.url(f"/up/same-page?n={polls['n']}")], f"-{polls['n']}")
        request.send(200, body, {"Content-Type": "application/rss+xml"})

    site.route("/up/switching.xml", handler=handler)
    site.route("/up/same-page", handler=lambda r: r.send(200, site.page_html(key),
                                                          {"Content-Type": "text/html"}))
    add_feeds(db, FeedSpec("switching", site.url("/up/switching.xml")))
    for _ in range(3):
        run_cycle(db, make_settings(), extract=False)
        make_due(db)
    with db.session() as s:
        rows = list(s.scalars(select(Article).order_by(Article.id)))
    assert polls["n"] == 3 and len(rows) == 3  # three URLs, three rows (their sources count)
    first, *twins = rows
    assert first.status == "fetched" and first.duplicate_of is None
    assert [(t.status, t.skip_reason, t.duplicate_of) for t in twins] == \
        [("skipped", "duplicate_text", first.id)] * 2
    assert len({r.text_hash for r in rows}) == 1


# --- a parked feed as operators see it ----------------------------------------------

def test_parked_feed_shows_in_status_with_its_last_error(db: Database, db_url: str, site: Site,
                                                         tmp_path: Path):
    add_feeds(db, FeedSpec("broken", site.url("/status/500")),
              FeedSpec("healthy", site.url("/feed/site.xml?n=1&offset=5")))
    settings = make_settings(park_after_errors=3)
    for _ in range(3):
        run_cycle(db, settings, extract=False)
        make_due(db)
    assert not feed(db, "broken").enabled and feed(db, "healthy").enabled
    env = {**os.environ, "NEWSMON_DATABASE_URL": db_url, "COLUMNS": "250"}
    as_json = subprocess.run([sys.executable, "-m", "pipeline", "status", "--json"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert as_json.returncode == 0, as_json.stderr
    feeds = {f["name"]: f for f in json.loads(as_json.stdout)["feeds"]}
    assert feeds["broken"]["enabled"] is False
    assert feeds["broken"]["disabled_reason"] == "parked after 3 errors"
    assert feeds["broken"]["last_error"].startswith("http_500")
    assert feeds["broken"]["consecutive_errors"] == 3
    assert feeds["healthy"]["enabled"] is True and feeds["healthy"]["last_error"] is None
    table = subprocess.run([sys.executable, "-m", "pipeline", "status"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert table.returncode == 0, table.stderr
    broken_line = next(line for line in table.stdout.splitlines() if "broken" in line)
    assert "parked after 3 errors" in broken_line and "http_500" in broken_line


# --- our own queue must not eat a request's deadline ----------------------------------

def test_waiting_for_a_host_slot_does_not_count_toward_the_deadline(site: Site):
    keys = site.page_keys()[20:26]
    for key in keys:
        site.route(f"/up/queued/{key}", delay=1.0,
                   handler=lambda r: r.send(200, b"<html>ok</html>", {"Content-Type": "text/html"}))
    settings = make_settings(per_host_connections=1, request_deadline=2.5)

    async def fetch_all() -> list[object]:
        async with Fetcher(settings) as fetcher:
            return await asyncio.gather(*(fetcher.get(site.url(f"/up/queued/{k}"), kind="page")
                                          for k in keys), return_exceptions=True)

    began = time.monotonic()
    results = asyncio.run(fetch_all())
    # Six 1 s pages one at a time take 6 s, more than the 2.5 s deadline of each;
    # every one must still arrive, since each took 1 s of the server's time.
    assert time.monotonic() - began >= 6
    assert [getattr(r, "status", r) for r in results] == [200] * 6
