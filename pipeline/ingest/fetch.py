"""Stage 2, fetch: one URL -> ``Page``, or a ``FetchError`` with a reason.

Every request goes through the SSRF guard (``pipeline.ingest.guard``), and runs
under limits that a hostile or broken server cannot stretch:

* a TOTAL deadline (``request_deadline``) over robots.txt, redirects and body,
  because per-read timeouts alone let a server drip one byte at a time;
* a cap on the DECOMPRESSED body, counted while streaming; decompression is
  ours, in bounded steps, so a gzip bomb costs no more memory than the cap;
* redirects followed by hand, each hop re-vetted, at most ``max_redirects``;
* ``max_connections`` requests in all and ``per_host_connections`` per host;
* robots.txt for article pages (RFC 9309), cached per origin.

Third-party errors leave this module only as ``pipeline.errors`` classes.
"""

from __future__ import annotations

import asyncio
import email.utils
import ssl
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from typing import Literal

import httpx
from protego import Protego

from config.settings import Settings
from pipeline.errors import BlockedURL, FetchError, FetchTimeout, HTTPStatusError, Stopped, TooLarge
from pipeline.ingest.guard import check_url, guarded_transport
from storage.records import Page

Kind = Literal["feed", "page"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_STATUSES = frozenset({301, 308})
# RFC 9309 §2.5: parse at least the first 500 KiB; a longer file is cut there, not ignored.
ROBOTS_MAX_BYTES = 500 * 1024
ROBOTS_TTL = 24 * 3600.0  # RFC 9309 §2.4: do not cache longer than 24 hours
ROBOTS_RETRY_TTL = 600.0  # an unreachable robots.txt is retried sooner
# Named in every size refusal: the settings that move the caps.
_CAPS = " (caps: NEWSMON_MAX_PAGE_BYTES for pages, NEWSMON_MAX_FEED_BYTES for feeds)"
_DECODE_STEP = 256 * 1024  # largest piece one decompression step may produce
_ACCEPT = {
    "feed": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5",
    "page": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
    "robots": "text/plain, */*;q=0.5",
}


@dataclass(frozen=True, slots=True)
class FetchedPage(Page):
    """A Page that also knows whether every redirect hop was permanent."""

    permanent: bool = False  # True only if there were redirects, all 301/308

    @property
    def moved_to(self) -> str | None:
        """The URL a feed should be updated to (RFC 9110 §15.4.2), or None."""
        return self.url if self.permanent and self.redirects else None


def permanent_location(page: Page) -> str | None:
    """Final URL when ``page`` came only through permanent redirects, else None."""
    return page.moved_to if isinstance(page, FetchedPage) else None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


# --- bounded decompression ---------------------------------------------

def _inflater(encoding: str) -> Callable[[bytes], Iterator[bytes]]:
    """A feed(data) -> pieces function; every piece is at most _DECODE_STEP bytes."""
    if encoding in ("", "identity"):
        return lambda data: iter((data,))
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise FetchError(f"unsupported Content-Encoding {encoding!r}", reason="bad_encoding")
    # gzip: 16+15 wbits; deflate: zlib wrapper, but some servers send it raw,
    # so "deflate" auto-detects on the first byte the way browsers do.
    state: dict[str, zlib._Decompress] = {}

    def feed(data: bytes) -> Iterator[bytes]:
        if "d" not in state:
            raw = encoding == "deflate" and bool(data) and (data[0] & 0x0F) != 8
            state["d"] = zlib.decompressobj(-15 if raw else (31 if encoding != "deflate" else 15))
        d = state["d"]
        try:
            while data or not d.eof:
                piece = d.decompress(data, _DECODE_STEP)
                data = d.unconsumed_tail
                if piece:
                    yield piece
                if not data and len(piece) < _DECODE_STEP:
                    break  # all input consumed and no output pending
        except zlib.error as exc:
            raise FetchError(f"corrupt {encoding} body: {exc}", reason="decode_error") from exc

    return feed


# --- error translation -------------------------------------------------

def _has_ssl_cause(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _translate(exc: httpx.HTTPError, url: str) -> FetchError:
    """One httpx error -> the matching class of our tree (caller raises ``from exc``)."""
    where = f"{url}: {type(exc).__name__}: {exc}"
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__.removesuffix("Timeout").lower() or "request"
        return FetchTimeout(where, reason=f"{kind}_timeout")
    if isinstance(exc, httpx.ConnectError):
        return FetchError(where, reason="tls_error" if _has_ssl_cause(exc) else "connect_error")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return BlockedURL(where, reason="scheme")
    if isinstance(exc, httpx.ProtocolError):
        return FetchError(where, reason="protocol_error")
    if isinstance(exc, httpx.ReadError):
        return FetchError(where, reason="read_error")
    if isinstance(exc, httpx.WriteError):
        return FetchError(where, reason="write_error")
    return FetchError(where, reason="transport_error")


class _HostSlots:
    """Per-host semaphores, dropped when idle so months of new hosts cost nothing."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._slots: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}

    @asynccontextmanager
    async def __call__(self, host: str) -> AsyncIterator[None]:
        sem, users = self._slots.setdefault(host, (asyncio.Semaphore(self._size), [0]))
        users[0] += 1
        try:
            async with sem:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._slots[host]


@dataclass(slots=True)
class _Hop:
    """One response of a redirect chain, read or not."""

    url: httpx.URL
    response: httpx.Response
    body: bytes = b""


class Fetcher:
    """The HTTP client of newsmon. Use as ``async with Fetcher(settings) as f``."""

    def __init__(self, settings: Settings, *, stop: threading.Event | None = None) -> None:
        self.settings = settings
        # Checked once a connection slot is ours: a request queued behind a busy
        # host must not start after SIGTERM (it raises Stopped instead).
        self._stop = stop
        timeout = httpx.Timeout(
            connect=settings.connect_timeout, read=settings.read_timeout,
            write=settings.read_timeout, pool=settings.request_deadline,
        )
        limits = httpx.Limits(
            max_connections=settings.max_connections,
            max_keepalive_connections=settings.max_connections,
        )
        self._client = httpx.AsyncClient(
            transport=guarded_transport(settings.allowed_networks, limits=limits),
            timeout=timeout,
            follow_redirects=False,  # each hop is vetted and counted here
            trust_env=False,  # an env proxy would bypass the address guard
            headers={"User-Agent": settings.http_user_agent, "Accept-Encoding": "gzip, deflate"},
        )
        self._all = asyncio.Semaphore(settings.max_connections)
        self._per_host = _HostSlots(settings.per_host_connections)
        self._robots: dict[str, tuple[float, asyncio.Task[tuple[Protego | None, float]]]] = {}
        self._robots_why: dict[str, str] = {}  # origin -> why its robots.txt was unreachable

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for _, task in self._robots.values():
            task.cancel()
        await self._client.aclose()

    async def get(
        self, url: str, *, kind: Kind,
        etag: str | None = None, last_modified: str | None = None,
    ) -> Page:
        """GET ``url`` as a feed or an article page; conditional when validators are given."""
        started = time.monotonic()
        headers = {"Accept": _ACCEPT[kind]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        cap = self.settings.max_feed_bytes if kind == "feed" else self.settings.max_page_bytes
        try:
            async with asyncio.timeout(self.settings.request_deadline) as budget:
                hops = await self._follow(url, headers, cap, robots=kind == "page",
                                          budget=budget)
        except TimeoutError as exc:
            raise FetchTimeout(
                f"{url}: no complete answer within {self.settings.request_deadline:g} s "
                f"(NEWSMON_REQUEST_DEADLINE)",
                reason="deadline",
            ) from exc
        return self._page(hops, etag, last_modified, time.monotonic() - started)

    async def _follow(
        self, url: str, headers: dict[str, str], cap: int, *, robots: bool,
        budget: asyncio.Timeout | None = None, truncate: bool = False,
    ) -> list[_Hop]:
        """Request ``url`` and its redirects; the last hop's body is read.

        ``truncate``: a body over ``cap`` is cut to ``cap`` bytes instead of refused.
        """
        allowed = self.settings.allowed_networks
        target = check_url(url, allowed)
        hops: list[_Hop] = []
        seen: set[str] = set()
        while True:
            if robots and self.settings.respect_robots:
                await self._check_robots(target)
            seen.add(str(target))
            hop = await self._request(target, headers, cap, budget, truncate=truncate)
            hops.append(hop)
            status = hop.response.status_code
            location = hop.response.headers.get("Location")
            if status not in REDIRECT_STATUSES or not location:
                return hops
            if len(hops) > self.settings.max_redirects:
                raise FetchError(f"{url}: more than {self.settings.max_redirects} redirects "
                                 f"(NEWSMON_MAX_REDIRECTS)",
                                 reason="too_many_redirects")
            try:
                target = check_url(target.join(location), allowed)
            except httpx.InvalidURL as exc:
                raise BlockedURL(f"{url}: bad Location {location[:200]!r}",
                                 reason="invalid_url") from exc
            if str(target) in seen:
                raise FetchError(f"{url}: redirect loop at {target}", reason="redirect_loop")

    async def _request(self, url: httpx.URL, headers: dict[str, str], cap: int,
                       budget: asyncio.Timeout | None = None, *,
                       truncate: bool = False) -> _Hop:
        """One HTTP exchange under the connection limits; body read only for 2xx."""
        # Waiting for our own connection slots is not the server's time: the
        # deadline pauses meanwhile, or the 20th page of a one-host feed times out unsent.
        loop = asyncio.get_running_loop()
        when = budget.when() if budget is not None else None
        left = None if when is None else when - loop.time()
        if budget is not None and left is not None:
            budget.reschedule(None)
        async with self._per_host(url.netloc.decode("ascii")), self._all:
            if self._stop is not None and self._stop.is_set():
                raise Stopped(f"{url}: not started, stopping")
            if budget is not None and left is not None:
                budget.reschedule(loop.time() + left)
            request = self._client.build_request("GET", url, headers=headers)
            try:
                response = await self._client.send(request, stream=True)
                try:
                    body = b""
                    if 200 <= response.status_code < 300:
                        body = await self._read(response, cap, truncate=truncate)
                finally:
                    await response.aclose()
            except httpx.HTTPError as exc:
                raise _translate(exc, str(url)) from exc
            return _Hop(url, response, body)

    @staticmethod
    async def _read(response: httpx.Response, cap: int, *, truncate: bool = False) -> bytes:
        """Stream, decompress in bounded steps and stop as soon as ``cap`` is passed.

        Past ``cap`` the body is refused (TooLarge), or with ``truncate`` cut to ``cap``.
        """
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        inflate = _inflater(encoding)
        body = bytearray()
        wire = 0
        async for chunk in response.aiter_raw():
            wire += len(chunk)
            for piece in inflate(chunk):
                body += piece
                if len(body) > cap:
                    if truncate:
                        return bytes(body[:cap])
                    raise TooLarge(f"{response.url}: body over {cap} bytes"
                                   f"{' after decompression' if encoding else ''}{_CAPS}")
            if wire > cap:  # compressed input that yields nothing still costs reading
                raise TooLarge(f"{response.url}: over {cap} bytes on the wire{_CAPS}")
        return bytes(body)

    def _page(self, hops: list[_Hop], etag: str | None, last_modified: str | None,
              elapsed: float) -> FetchedPage:
        last = hops[-1]
        response = last.response
        status = response.status_code
        if status >= 300 and status != 304:
            raise HTTPStatusError(
                f"{last.url}: HTTP {status}", status=status,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        redirected = hops[:-1]
        return FetchedPage(
            url=str(last.url),
            status=status,
            body=b"" if status == 304 else last.body,
            headers={k.lower(): v for k, v in response.headers.items()},
            etag=response.headers.get("ETag") or (etag if status == 304 else None),
            last_modified=response.headers.get("Last-Modified")
            or (last_modified if status == 304 else None),
            redirects=tuple(str(h.url) for h in redirected),
            elapsed=elapsed,
            permanent=bool(redirected)
            and all(h.response.status_code in PERMANENT_STATUSES for h in redirected),
        )

    # --- robots.txt ------------------------------------------------------
    async def _check_robots(self, url: httpx.URL) -> None:
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        now = time.monotonic()
        entry = self._robots.get(origin)
        if entry is not None and entry[1].done():
            task = entry[1]
            failed = task.cancelled() or task.exception() is not None
            if failed or now - entry[0] > task.result()[1]:
                entry = None  # expired, or a failure that must not stick for 24 hours
        if entry is None:
            entry = (now, asyncio.create_task(self._load_robots(origin)))
            self._robots[origin] = entry
        # shield: one page's deadline must not cancel the fetch other pages await
        parser, _ttl = await asyncio.shield(entry[1])
        if parser is None:
            # RFC 9309: unreachable means "disallow for now", not "disallow for ever",
            # so this reason is retryable (unlike a real robots.txt disallow).
            why = self._robots_why.get(origin, "server error")
            raise FetchError(f"{url}: robots.txt unreachable ({why}), assumed disallowed",
                             reason="robots_unavailable")
        if not parser.can_fetch(str(url), self.settings.http_user_agent):
            raise BlockedURL(f"{url}: disallowed by the site's robots.txt, which newsmon honours "
                             f"(NEWSMON_RESPECT_ROBOTS=false only with the site's permission)",
                             reason="robots")

    async def _load_robots(self, origin: str) -> tuple[Protego | None, float]:
        """(parser, ttl); parser None means disallow everything (RFC 9309 §2.3.1.4)."""
        headers = {"Accept": _ACCEPT["robots"]}
        try:
            async with asyncio.timeout(self.settings.request_deadline) as budget:
                # One byte over the limit tells a cut file from one of exactly the limit.
                hops = await self._follow(origin + "/robots.txt", headers, ROBOTS_MAX_BYTES + 1,
                                          robots=False, budget=budget, truncate=True)
        except TooLarge:  # compressed bytes past the limit that decompress to (almost) nothing
            return Protego.parse(""), ROBOTS_RETRY_TTL
        except Stopped:
            raise
        except (FetchError, TimeoutError) as exc:
            self._robots_why[origin] = getattr(exc, "reason", "deadline")
            return None, ROBOTS_RETRY_TTL
        status = hops[-1].response.status_code
        if 200 <= status < 300:
            return Protego.parse(_robots_text(hops[-1].body)), ROBOTS_TTL
        if 400 <= status < 500 and status != 429:
            return Protego.parse(""), ROBOTS_TTL  # "unavailable": everything allowed
        return None, ROBOTS_RETRY_TTL  # 5xx, 429 or odd: "unreachable"


def _robots_text(body: bytes) -> str:
    """The first ROBOTS_MAX_BYTES of a robots.txt, minus a line the limit cut in two.

    A cut "Disallow: /private" would read as "Disallow: /" and block the whole site.
    """
    if len(body) > ROBOTS_MAX_BYTES:
        body = body[:ROBOTS_MAX_BYTES]
        body = body[: max(body.rfind(b"\n"), body.rfind(b"\r")) + 1]
    return body.decode("utf-8", errors="replace")


def fetch_sync(url: str, settings: Settings, *, kind: Kind = "page") -> Page:
    """One fetch from synchronous code (CLI commands, a REPL)."""

    async def run() -> Page:
        async with Fetcher(settings) as fetcher:
            return await fetcher.get(url, kind=kind)

    return asyncio.run(run())


__all__ = ["FetchedPage", "Fetcher", "fetch_sync", "parse_retry_after", "permanent_location"]
