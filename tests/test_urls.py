"""URLs: the one fetched is the feed's own; the de-duplication key drops tracking only.

A query is bytes the server interprets: ``?12345`` is not ``?12345=`` and
``a=1;b=2`` is not ``a=1%3Bb%3D2``.
"""

from __future__ import annotations

import asyncio
import html

import pytest
from sqlalchemy import select

from config.settings import Settings
from pipeline.ingest.feeds import parse_feed
from pipeline.ingest.fetch import Fetcher
from pipeline.ingest.urls import canonical_url, fetch_url, url_key
from storage.models import Feed
from storage.records import FeedState


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTPS://WWW.Example.COM/News/A?utm_source=rss&utm_medium=x#top",
         "https://www.example.com/News/A"),
        ("https://example.com:443/a?id=3&fbclid=abc", "https://example.com/a?id=3"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com", "https://example.com/"),
        ("https://user:pw@example.com/a", "https://example.com/a"),
        ("  https://example.com/a?b=1&a=2  ", "https://example.com/a?b=1&a=2"),
        ("javascript:alert(1)", "javascript:alert(1)"),
    ],
)
def test_canonical_url(raw: str, canonical: str):
    assert canonical_url(raw) == canonical


def test_idempotent():
    url = "https://Example.com/x?utm_campaign=a&q=1#f"
    assert canonical_url(canonical_url(url)) == canonical_url(url)


@pytest.mark.parametrize(
    ("raw", "fetched"),
    [
        ("https://example.com/a?12345", "https://example.com/a?12345"),
        ("https://example.com/a?a=1;b=2", "https://example.com/a?a=1;b=2"),
        ("https://example.com/a?a=1;b=2#c", "https://example.com/a?a=1;b=2"),
        ("  https://Example.com/a?q=%7e&x=a+b&&y=&utm_source=rss\n",
         "https://Example.com/a?q=%7e&x=a+b&&y=&utm_source=rss"),
        ("https://example.com/a?b=1&a=2", "https://example.com/a?b=1&a=2"),  # order kept
        ("https://user:pw@example.com/a?x", "https://example.com/a?x"),  # never stored
        ("javascript:alert(1)#x", "javascript:alert(1)#x"),
    ],
)
def test_fetch_url_keeps_the_query_byte_for_byte(raw: str, fetched: str):
    assert fetch_url(raw) == fetched
    assert fetch_url(fetched) == fetched


def test_fetch_url_resolves_relative_links():
    assert fetch_url("../b?12345#top", base="https://example.com/x/y/z") == (
        "https://example.com/x/b?12345")


@pytest.mark.parametrize(
    "url",
    ["https://example.com/a?12345", "https://example.com/a?a=1;b=2",
     "https://example.com/a?q=%7e&x=a+b"],
)
def test_key_keeps_other_queries_as_they_are(url: str):
    assert url_key(url) == url


def test_tracking_parameters_leave_the_key_only():
    url = "https://example.com/a?id=3&utm_source=rss&b=x;y"
    assert fetch_url(url) == url
    assert url_key(url) == "https://example.com/a?id=3&b=x;y"
    assert url_key("https://example.com/a?id=3&utm_medium=mail&b=x;y&fbclid=z") == url_key(url)
    assert canonical_url(url) == url_key(url)  # the old name is the key


def _feed(links: list[str]) -> bytes:
    items = "".join(f"<item><title>{i}</title><link>{html.escape(link)}</link></item>"
                    for i, link in enumerate(links))
    return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>Q</title>"
            f"<link>https://example.com/</link>{items}</channel></rss>").encode()


def test_the_page_requested_is_the_one_the_feed_linked(site, db):  # noqa: ANN001
    """Feed -> stored article -> claimed for fetching -> the request the server sees."""
    from config.feeds import FeedSpec
    from storage import queries as store
    from storage.models import Article

    seen: list[str] = []

    def record(request) -> None:  # noqa: ANN001
        seen.append(request.path)
        request.send(200, b"<html><body><p>ok</p></body></html>",
                     {"Content-Type": "text/html"})

    site.route("/q/story", handler=record)
    queries = ["12345", "a=1;b=2", "id=%7e&x=a+b", "p=7&utm_source=rss"]
    with db.transaction() as s:
        store.sync_feeds([FeedSpec("Q", site.url("/q/feed.xml"))], session=s,
                         default_interval=900)
        feed_id = s.scalar(select(Feed.id))
    entries, _, skipped = parse_feed(
        _feed([f"/q/story?{q}" for q in queries]), {"content-type": "application/rss+xml"},
        feed=FeedState(feed_id, "Q", site.url("/q/feed.xml")),
        base_url=site.url("/q/feed.xml"), max_entries=10)
    assert skipped == 0
    with db.transaction() as s:
        store.add_entries(entries, session=s, now=store.utcnow())
    with db.session() as s:
        claimed = store.claim_pending(session=s, now=store.utcnow(), limit=10)
        keys = set(s.scalars(select(Article.url)))
    assert site.url("/q/story?p=7") in keys  # the de-dup key drops the tracker only

    async def run() -> None:
        settings = Settings(allowed_networks=["127.0.0.0/8"], request_deadline=3)
        async with Fetcher(settings) as fetcher:
            for _id, url in claimed:
                await fetcher.get(url, kind="page")

    asyncio.run(run())
    assert sorted(seen) == sorted(f"/q/story?{q}" for q in queries)
