"""A real HTTP server on 127.0.0.1 for the fetch, poll and benchmark tests.

Tests talk to it over real sockets so the client, its guards and its
timeouts are exercised the way production exercises them (STYLE.md §10).
The server is session-scoped; tests that need something special register a
route under a path of their own with ``site.route(...)``.

Built-in routes::

    /feeds/<file>              the captured feeds of corpus/feeds (ETag, 304)
    /pages/<key>.html          decompressed pages of corpus/extraction/html
    /private/<key>.html        same pages, disallowed by /robots.txt
    /feed/site.xml?n=&offset=  RSS 2.0 over n pages starting at offset (ETag, 304)
    /feed/<i>.xml              RSS 2.0 over 3 pages, a distinct feed per i
    /redirect/<code>?to=URL    one redirect (301, 302, 303, 307, 308)
    /chain/<n>?code=&to=URL    n redirects in a row, then URL
    /loop                      redirects to itself forever
    /status/<code>             that status; 429/503 carry Retry-After
                               (?retry_after=S seconds, ?retry_date=1 HTTP-date)
    /slow?seconds=S            answers after S seconds
    /drip?interval=S&n=N       promises N bytes, sends one every S seconds
    /bomb                      gzip: ~0.5 MB on the wire, 512 MiB decompressed
    /huge?mb=M&length=0        M MiB of body (length=0: no Content-Length)
    /truncated                 promises 100 kB, sends 1 kB, closes
    /echo                      the request headers as JSON
    /robots.txt                disallows /private/
"""

from __future__ import annotations

import gzip
import hashlib
import json
import struct
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formatdate, parsedate_to_datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit
from xml.sax.saxutils import escape

import pytest

from tests.support import synthetic
from tests.support.paths import CORPUS, DATA, HAVE_SHARED

FEEDS_DIR = CORPUS / "feeds"
PAGES_DIR = CORPUS / "extraction" / "html"
GROUND_TRUTH = CORPUS / "extraction" / "ground-truth.json"

ROBOTS_TXT = b"User-agent: *\nDisallow: /private/\n"
BOMB_SIZE = 512 * 1024 * 1024
# Fixed so that ETag/Last-Modified are stable across runs and 304s are testable.
EPOCH = datetime(2024, 8, 8, 12, 0, tzinfo=UTC)

Handler = Callable[["_RequestHandler"], None]


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    handler: Handler | None = None


class Hits:
    """Requests per path (query excluded), safe to read while the server runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, path: str) -> None:
        with self._lock:
            self._counts[path] += 1

    def __getitem__(self, path: str) -> int:
        with self._lock:
            return self._counts[path]

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


@cache
def page_keys() -> tuple[str, ...]:
    """The real captured pages, or on a bare clone the synthetic stand-ins."""
    if not HAVE_SHARED:
        return synthetic.keys()
    return tuple(sorted(p.name.removesuffix(".html.gz") for p in PAGES_DIR.glob("*.html.gz")))


@cache
def page_html(key: str) -> bytes:
    if not HAVE_SHARED:
        return synthetic.html(key)
    return gzip.decompress((PAGES_DIR / f"{key}.html.gz").read_bytes())


@cache
def page_titles() -> dict[str, str]:
    if not HAVE_SHARED:
        return synthetic.titles()
    # The benchmark has no titles; the body's first line is a readable stand-in.
    truth = json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))
    return {k: (v["articleBody"].strip().split("\n")[0][:90] or k) for k, v in truth.items()}


@cache
def gzip_bomb() -> bytes:
    """512 MiB of zeros as one gzip member, assembled without ever holding them.

    After a full flush the compressor forgets its history, so the deflate
    bytes for each 1 MiB of zeros are identical and can simply be repeated.
    """
    chunk = bytes(1024 * 1024)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(BOMB_SIZE // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, BOMB_SIZE & 0xFFFFFFFF)
    return header + segment * (BOMB_SIZE // len(chunk)) + comp.flush() + trailer


def rss(base: str, title: str, keys: list[str], start: int) -> bytes:
    items = []
    for i, key in enumerate(keys):
        date = formatdate((EPOCH - timedelta(hours=start + i)).timestamp(), usegmt=True)
        link = f"{base}/pages/{key}.html"
        items.append(
            f"<item><title>{escape(page_titles().get(key, key))}</title><link>{link}</link>"
            f'<guid isPermaLink="false">urn:newsmon-test:{key}</guid>'
            f"<pubDate>{date}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{base}/</link><description>test feed</description>"
        + "".join(items)
        + "</channel></rss>\n"
    ).encode()


class _RequestHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 so that keep-alive and connection pooling are exercised too;
    # every response therefore carries a Content-Length or closes.
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # quiet: pytest shows failures, not access logs

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.server.hits.add(parts.path)
        try:
            self.dispatch(parts.path)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up on purpose (caps, deadlines)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def dispatch(self, path: str) -> None:
        route = self.server.routes.get(path)
        if route is not None:
            return self.custom(route)
        head, _, rest = path.lstrip("/").partition("/")
        simple = getattr(self, f"r_{head.replace('.', '_')}", None)
        if simple is not None:
            return simple(rest)
        self.send(404, b"not found\n")

    # --- helpers ------------------------------------------------------
    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        headers = {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def conditional(self, body: bytes, ctype: str, modified: datetime = EPOCH) -> None:
        """Serve with a strong ETag and Last-Modified; 304 when the client has it."""
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        validators = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True)}
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if inm is not None:  # RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since
            fresh = etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        elif ims is not None:
            try:
                fresh = parsedate_to_datetime(ims) >= modified.replace(microsecond=0)
            except (TypeError, ValueError):
                fresh = False
        else:
            fresh = False
        if fresh:
            return self.send(304, b"", {**validators, "Content-Length": "0"})
        self.send(200, body, {"Content-Type": ctype, **validators})

    def custom(self, route: Route) -> None:
        if route.delay:
            time.sleep(route.delay)
        if route.handler is not None:
            return route.handler(self)
        self.send(route.status, route.body, route.headers)

    # --- built-in routes (r_<first path segment>) ---------------------
    def r_feeds(self, name: str) -> None:
        path = FEEDS_DIR / name
        if not path.is_file():  # our own feeds serve where the captured ones are absent
            path = DATA / "feeds" / name
        if "/" in name or not path.is_file():
            return self.send(404, b"no such feed\n")
        self.conditional(path.read_bytes(), "application/rss+xml")

    def r_pages(self, name: str) -> None:
        key = name.removesuffix(".html")
        if key not in page_keys():
            return self.send(404, b"no such page\n")
        self.send(200, page_html(key), {"Content-Type": "text/html"})

    r_private = r_pages

    def r_feed(self, name: str) -> None:
        keys = page_keys()
        if name == "site.xml":
            n, offset = int(self.query.get("n", 20)), int(self.query.get("offset", 0))
        elif name.removesuffix(".xml").isdigit():
            n, offset = 3, int(name.removesuffix(".xml")) * 3
        else:
            return self.send(404, b"no such feed\n")
        chosen = [keys[(offset + j) % len(keys)] for j in range(n)]
        self.conditional(rss(self.base, f"test feed {name} {offset}", chosen, offset),
                         "application/rss+xml")

    def r_redirect(self, code: str) -> None:
        self.send(int(code), b"", {"Location": self.query.get("to", "/pages/")})

    def r_chain(self, n: str) -> None:
        left, code = int(n), self.query.get("code", "302")
        to = self.query.get("to", "/echo")
        nxt = to if left <= 1 else f"/chain/{left - 1}?code={code}&to={_quote(to)}"
        self.send(int(code), b"", {"Location": nxt})

    def r_loop(self, _: str) -> None:
        self.send(302, b"", {"Location": "/loop"})

    def r_status(self, code: str) -> None:
        status = int(code)
        headers: dict[str, str] = {}
        if status in (429, 503):
            if self.query.get("retry_date"):
                headers["Retry-After"] = formatdate(time.time() + 120, usegmt=True)
            else:
                headers["Retry-After"] = self.query.get("retry_after", "7")
        self.send(status, f"status {status}\n".encode(), headers)

    def r_slow(self, _: str) -> None:
        time.sleep(float(self.query.get("seconds", 5)))
        self.send(200, b"finally\n")

    def r_drip(self, _: str) -> None:
        # Each byte arrives well inside any read timeout; only a total deadline stops it.
        interval, n = float(self.query.get("interval", 1)), int(self.query.get("n", 1000))
        self.send_response(200)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        for _ in range(n):
            self.wfile.write(b".")
            self.wfile.flush()
            time.sleep(interval)

    def r_bomb(self, _: str) -> None:
        body = gzip_bomb()
        self.send(200, body, {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"})

    def r_huge(self, _: str) -> None:
        size = int(float(self.query.get("mb", 64)) * 1024 * 1024)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        if self.query.get("length", "1") == "0":
            self.send_header("Connection", "close")
            self.close_connection = True  # the end of the body is the end of the connection
        else:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b"x" * 65536
        for _ in range(size // len(chunk)):
            self.wfile.write(chunk)
        self.wfile.write(b"x" * (size % len(chunk)))

    def r_truncated(self, _: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b"<html>" + b"x" * 994)
        self.wfile.flush()
        self.close_connection = True

    def r_echo(self, _: str) -> None:
        body = json.dumps(dict(self.headers.items())).encode()
        self.send(200, body, {"Content-Type": "application/json"})

    def r_robots_txt(self, _: str) -> None:
        self.send(200, ROBOTS_TXT)


def _quote(url: str) -> str:
    return quote(url, safe="")


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a test that abandons a drip must not hang the session
    block_on_close = False
    request_queue_size = 256  # the 500-feed benchmark opens many sockets at once
    hits: Hits
    routes: dict[str, Route]

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that hang up (caps, deadlines, closed pools) are the point
        # of many tests; anything else is a bug in this module and is shown.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class Site:
    """Handle on the running server given to tests."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        host, port = server.server_address[:2]
        self.base = f"http://{host}:{port}"
        self.port = port

    @property
    def hits(self) -> Hits:
        return self._server.hits

    def url(self, path: str) -> str:
        return self.base + (path if path.startswith("/") else "/" + path)

    def route(self, path: str, *, status: int = 200, body: bytes | str = b"",
              headers: dict[str, str] | None = None, delay: float = 0.0,
              handler: Handler | None = None) -> str:
        """Serve ``path`` as given (or by ``handler(request)``); returns its URL."""
        data = body.encode() if isinstance(body, str) else body
        self._server.routes[path] = Route(status, data, dict(headers or {}), delay, handler)
        return self.url(path)

    @staticmethod
    def page_keys() -> tuple[str, ...]:
        return page_keys()

    @staticmethod
    def page_html(key: str) -> bytes:
        return page_html(key)


def start_site() -> tuple[Site, Callable[[], None]]:
    """Start a server outside pytest (benchmarks); returns the site and a stop function."""
    server = _Server(("127.0.0.1", 0), _RequestHandler)
    server.hits, server.routes = Hits(), {}
    thread = threading.Thread(target=server.serve_forever, name="test-site", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return Site(server), stop


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    handle, stop = start_site()
    yield handle
    stop()
