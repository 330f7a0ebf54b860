"""The fetch stage against a real HTTP server (tests/support/site.py)."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from config.settings import Settings
from pipeline.errors import BlockedURL, FetchError, FetchTimeout, HTTPStatusError, TooLarge
from pipeline.ingest.fetch import Fetcher, fetch_sync, parse_retry_after, permanent_location
from storage.records import Page
from tests.support.paths import DATA
from tests.support.site import Site, gzip_bomb, start_site

FEED = "/feeds/dates.xml"  # one of our own feed files (tests/data/feeds)


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        allowed_networks=["127.0.0.0/8"], connect_timeout=2, read_timeout=1.5,
        request_deadline=3, max_feed_bytes=1024 * 1024, max_page_bytes=2 * 1024 * 1024,
    )
    values.update(overrides)
    return Settings(**values)


def fetch(url: str, settings: Settings | None = None, **kwargs: Any) -> Page:
    async def run() -> Page:
        async with Fetcher(settings or make_settings()) as fetcher:
            return await fetcher.get(url, **{"kind": "feed", **kwargs})

    return asyncio.run(run())


# --- conditional GET ----------------------------------------------------

def test_feed_is_fetched_with_validators(site: Site) -> None:
    page = fetch(site.url(FEED))
    assert page.status == 200
    assert page.body == (DATA / "feeds" / FEED.split("/")[-1]).read_bytes()
    assert page.etag and page.etag.startswith('"')
    assert page.last_modified and page.last_modified.endswith("GMT")
    assert page.headers["content-type"] == "application/rss+xml"
    assert page.redirects == () and permanent_location(page) is None


def test_etag_and_last_modified_give_304(site: Site) -> None:
    first = fetch(site.url(FEED))
    by_etag = fetch(site.url(FEED), etag=first.etag)
    by_date = fetch(site.url(FEED), last_modified=first.last_modified)
    for page in (by_etag, by_date):
        assert page.status == 304 and page.body == b""
        assert page.etag == first.etag and page.last_modified == first.last_modified
    assert fetch(site.url(FEED), etag='"stale"').status == 200


def test_user_agent_and_encoding_headers(site: Site) -> None:
    settings = make_settings(contact_url="https://example.org/ops")
    sent = json.loads(fetch(site.url("/echo"), settings).body)
    assert sent["User-Agent"] == "newsmon/0.1 (+https://example.org/ops)"
    assert sent["Accept-Encoding"] == "gzip, deflate"
    assert sent["Host"] == f"127.0.0.1:{site.port}"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_bodies_are_decoded(site: Site, encoding: str) -> None:
    body = b"<rss>" + b"news " * 5000 + b"</rss>"
    packed = {
        "gzip": gzip.compress(body),
        "deflate": zlib.compress(body),
        "raw-deflate": zlib.compress(body)[2:-4],  # what some servers send as "deflate"
    }[encoding]
    name = encoding.split("-")[-1]
    url = site.route(f"/enc/{encoding}", body=packed, headers={"Content-Encoding": name})
    assert fetch(url).body == body


# --- redirects ------------------------------------------------------------

def test_permanent_redirect_chain_exposes_new_location(site: Site) -> None:
    page = fetch(site.url(f"/chain/3?code=301&to={FEED}"))
    assert page.status == 200 and page.url == site.url(FEED)
    assert len(page.redirects) == 3
    assert page.redirects[0] == site.url(f"/chain/3?code=301&to={FEED}")
    assert permanent_location(page) == site.url(FEED)


def test_temporary_hop_makes_chain_not_permanent(site: Site) -> None:
    assert permanent_location(fetch(site.url(f"/chain/2?code=302&to={FEED}"))) is None
    mixed = site.url("/redirect/301?to=" + quote(f"/redirect/302?to={FEED}", safe=""))
    page = fetch(mixed)
    assert len(page.redirects) == 2 and permanent_location(page) is None


def test_redirect_hops_are_capped(site: Site) -> None:
    settings = make_settings(max_redirects=3)
    assert fetch(site.url("/chain/3?to=/echo"), settings).status == 200
    with pytest.raises(FetchError) as info:
        fetch(site.url("/chain/4?to=/echo"), settings)
    assert info.value.reason == "too_many_redirects"
    assert "NEWSMON_MAX_REDIRECTS" in str(info.value)  # a refusal names its fix


def test_redirect_loop_is_an_error(site: Site) -> None:
    with pytest.raises(FetchError) as info:
        fetch(site.url("/loop"))
    assert info.value.reason == "redirect_loop"


# --- statuses -------------------------------------------------------------

@pytest.mark.parametrize("status", [404, 410, 500])
def test_error_status_raises(site: Site, status: int) -> None:
    with pytest.raises(HTTPStatusError) as info:
        fetch(site.url(f"/status/{status}"))
    assert info.value.status == status and info.value.reason == f"http_{status}"
    assert info.value.retry_after is None


def test_retry_after_seconds_and_date(site: Site) -> None:
    with pytest.raises(HTTPStatusError) as info:
        fetch(site.url("/status/429?retry_after=42"))
    assert info.value.status == 429 and info.value.retry_after == 42.0
    with pytest.raises(HTTPStatusError) as info:
        fetch(site.url("/status/503?retry_date=1"))
    assert info.value.status == 503 and 100 < (info.value.retry_after or 0) <= 121


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 60) == 60.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 + 60) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


# --- time limits ----------------------------------------------------------

def test_slow_server_times_out_within_deadline(site: Site) -> None:
    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        fetch(site.url("/slow?seconds=10"))
    assert time.monotonic() - started < 3 + 0.5


def test_drip_is_stopped_by_total_deadline(site: Site) -> None:
    # One byte every 0.3 s never trips the 1.5 s read timeout; only the deadline can.
    started = time.monotonic()
    with pytest.raises(FetchTimeout) as info:
        fetch(site.url("/drip?interval=0.3&n=100"), make_settings(request_deadline=2))
    elapsed = time.monotonic() - started
    assert info.value.reason == "deadline" and 1.9 < elapsed < 2.5
    assert "NEWSMON_REQUEST_DEADLINE" in str(info.value)


# --- size limits ----------------------------------------------------------

def _rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096


@pytest.fixture
def rss_peak() -> Iterator[list[int]]:
    """Highest RSS growth seen while the test runs, sampled every millisecond."""
    base, peak, done = _rss_bytes(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_bytes() - base)
            time.sleep(0.001)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    yield peak
    done.set()
    thread.join()


def test_gzip_bomb_is_capped_with_flat_memory(site: Site, rss_peak: list[int]) -> None:
    gzip_bomb()  # built by the server on first use; build it before measuring
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge):
            fetch(site.url("/bomb"))  # 512 MiB decompressed, cap 1 MiB
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert traced_peak < 12 * 1024 * 1024
    assert rss_peak[0] < 48 * 1024 * 1024


@pytest.mark.parametrize("length", ["1", "0"])
def test_huge_body_is_capped(site: Site, length: str) -> None:
    with pytest.raises(TooLarge):
        fetch(site.url(f"/huge?mb=8&length={length}"), kind="page")


def test_page_and_feed_caps_differ(site: Site) -> None:
    assert len(fetch(site.url("/huge?mb=1.5"), kind="page").body) == 1536 * 1024
    with pytest.raises(TooLarge) as info:
        fetch(site.url("/huge?mb=1.5"), kind="feed")
    assert "NEWSMON_MAX_FEED_BYTES" in str(info.value)


def test_body_cut_mid_way_is_a_fetch_error(site: Site) -> None:
    with pytest.raises(FetchError) as info:
        fetch(site.url("/truncated"), kind="page")
    assert type(info.value) is FetchError and info.value.reason == "protocol_error"


# --- connection errors ----------------------------------------------------

def test_refused_connection_is_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError) as info:
        fetch(f"http://127.0.0.1:{port}/")
    assert info.value.reason == "connect_error" and info.value.__cause__ is not None


def test_tls_to_plain_server_is_tls_error(site: Site) -> None:
    with pytest.raises(FetchError) as info:
        fetch(site.url("/echo").replace("http://", "https://"))
    assert info.value.reason == "tls_error"


# --- robots.txt -----------------------------------------------------------

def test_robots_disallow_blocks_pages_only(site: Site) -> None:
    private = site.url(f"/private/{site.page_keys()[0]}.html")
    with pytest.raises(BlockedURL) as info:
        fetch(private, kind="page")
    assert info.value.reason == "robots"
    assert "NEWSMON_RESPECT_ROBOTS" in str(info.value)
    assert fetch(private, kind="feed").status == 200  # feeds are subscribed to, not crawled
    assert fetch(private, make_settings(respect_robots=False), kind="page").status == 200


def test_robots_is_fetched_once_per_origin(site: Site) -> None:
    keys = site.page_keys()[:3]
    before = site.hits["/robots.txt"]

    async def run() -> list[Page]:
        async with Fetcher(make_settings()) as fetcher:
            return [await fetcher.get(site.url(f"/pages/{k}.html"), kind="page") for k in keys]

    pages = asyncio.run(run())
    assert [p.body for p in pages] == [site.page_html(k) for k in keys]
    assert site.hits["/robots.txt"] - before == 1


def test_robots_group_for_our_user_agent_applies() -> None:
    other, stop = start_site()
    try:
        other.route("/robots.txt", body="User-agent: newsmon\nDisallow: /echo\n\n"
                                        "User-agent: *\nAllow: /\n")
        with pytest.raises(BlockedURL):
            fetch(other.url("/echo"), kind="page")
        assert fetch(other.url(FEED), kind="page").status == 200
    finally:
        stop()


def test_unreachable_robots_disallows_and_missing_robots_allows() -> None:
    other, stop = start_site()
    try:
        other.route("/robots.txt", status=503)
        with pytest.raises(FetchError) as info:
            fetch(other.url("/echo"), kind="page")
        # Retryable: a robots.txt that is down now may answer later (RFC 9309 §2.3.1.4).
        assert info.value.reason == "robots_unavailable"
        other.route("/robots.txt", status=404)
        assert fetch(other.url("/echo"), kind="page").status == 200
    finally:
        stop()


def _big_robots() -> bytes:
    """700 KiB: /early disallowed inside the first 500 KiB, /late after it.

    The 500 KiB cut falls inside "Disallow: /cut-line", right after its slash:
    a cut line parsed as it stands would disallow everything.
    """
    limit = 500 * 1024
    filler = b"# " + b"x" * 97 + b"\n"
    head = b"User-agent: *\nDisallow: /early\n"
    head += filler * ((400 * 1024 - len(head)) // len(filler))
    cut = b"Disallow: /cut-line\n"
    head += b"#" * (limit - len(head) - len(b"Disallow: /") - 1) + b"\n"
    body = head + cut
    assert body[:limit].endswith(b"\nDisallow: /")
    body += filler * 500 + b"Disallow: /late\n"
    body += filler * ((700 * 1024 - len(body)) // len(filler))
    assert len(body) > 690 * 1024 and body.index(b"/late") > limit
    return body


def test_robots_over_500_kib_is_read_up_to_500_kib() -> None:
    other, stop = start_site()
    try:
        other.route("/robots.txt", body=_big_robots(), headers={"Content-Type": "text/plain"})
        for path in ("/early", "/late", "/cut-line"):
            other.route(path, body="ok")
        with pytest.raises(BlockedURL) as info:  # RFC 9309 §2.5: the first 500 KiB count
            fetch(other.url("/early"), kind="page")
        assert info.value.reason == "robots"
        assert fetch(other.url("/late"), kind="page").status == 200  # past the limit
        assert fetch(other.url("/cut-line"), kind="page").status == 200  # cut, not "/"
    finally:
        stop()


# --- concurrency ----------------------------------------------------------

def test_per_host_limit(site: Site) -> None:
    lock, state = threading.Lock(), {"now": 0, "max": 0}

    def handler(request: Any) -> None:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.2)
        with lock:
            state["now"] -= 1
        request.send(200, b"ok")

    url = site.route("/concurrency", handler=handler)

    async def run() -> None:
        async with Fetcher(make_settings(per_host_connections=2)) as fetcher:
            await asyncio.gather(*(fetcher.get(url, kind="feed") for _ in range(6)))

    asyncio.run(run())
    assert state["max"] == 2


def test_sync_helper(site: Site) -> None:
    assert fetch_sync(site.url(FEED), make_settings(), kind="feed").status == 200
