"""SSRF guard: address policy, URL vetting, and refusal before any connection.

Only loopback is ever really connected to; every non-loopback address here
must be refused by ``check_url`` before a socket exists.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any
from urllib.parse import quote

import pytest

from config.settings import Settings
from pipeline.errors import BlockedURL, FetchError
from pipeline.ingest.fetch import Fetcher
from pipeline.ingest.guard import GuardedBackend, check_address, check_url, guarded_transport
from storage.records import Page
from tests.support.site import Site

LOCAL = [ipaddress.ip_network("127.0.0.0/8")]

BLOCKED = {
    "127.0.0.1": "loopback", "127.255.0.9": "loopback", "::1": "loopback",
    "10.1.2.3": "private", "172.16.0.1": "private", "192.168.1.1": "private",
    "fd00::1": "private", "fc00::1": "private",
    "169.254.169.254": "link_local", "169.254.0.1": "link_local", "fe80::1": "link_local",
    "100.64.0.1": "cgnat", "100.127.255.254": "cgnat",
    "224.0.0.1": "multicast", "239.255.255.250": "multicast", "ff02::1": "multicast",
    "0.0.0.0": "unspecified", "::": "unspecified", "0.1.2.3": "unspecified",
    "240.0.0.1": "reserved", "255.255.255.255": "reserved", "192.0.2.1": "reserved",
    # IPv6 spellings of forbidden IPv4 addresses
    "::ffff:127.0.0.1": "loopback", "::ffff:169.254.169.254": "link_local",
    "::127.0.0.1": "loopback", "64:ff9b::10.0.0.1": "private",
    "64:ff9b:1::a9fe:a9fe": "link_local", "2002:a9fe:a9fe::": "link_local",
    "2002:7f00:1::1": "loopback",
}
PUBLIC = ["8.8.8.8", "1.1.1.1", "151.101.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8",
          "2002:808:808::1", "64:ff9b::1.1.1.1"]


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = dict(allowed_networks=[], connect_timeout=2, read_timeout=2,
                                  request_deadline=4)
    values.update(overrides)
    return Settings(**values)


def fetch(url: str, settings: Settings) -> Page:
    async def run() -> Page:
        async with Fetcher(settings) as fetcher:
            return await fetcher.get(url, kind="feed")

    return asyncio.run(run())


# --- address policy -------------------------------------------------------

@pytest.mark.parametrize(("address", "why"), sorted(BLOCKED.items()))
def test_forbidden_addresses(address: str, why: str) -> None:
    with pytest.raises(BlockedURL) as info:
        check_address(address, [])
    assert info.value.reason == f"ssrf_{why}"


@pytest.mark.parametrize(("address", "suggested"), [
    ("127.0.0.1", "127.0.0.0/8"), ("10.1.2.3", "10.0.0.0/8"), ("172.31.0.5", "172.16.0.0/12"),
    ("192.168.1.1", "192.168.0.0/16"), ("169.254.169.254", "169.254.0.0/16"),
    ("100.64.0.1", "100.64.0.1/32"), ("0.0.0.0", "0.0.0.0/32"),
    ("::1", "::1/128"), ("fd00::1", "fc00::/7"), ("fe80::1", "fe80::/10"),
    ("fe80::1%eth0", "fe80::/10"), ("ff02::1", "ff02::1/128"),
    # IPv6 spellings are judged, and so opened, by the IPv4 address they reach
    ("::ffff:127.0.0.1", "127.0.0.0/8"), ("2002:a9fe:a9fe::", "169.254.0.0/16"),
])
def test_refusal_names_the_setting_and_the_network_to_allow(address: str, suggested: str) -> None:
    with pytest.raises(BlockedURL) as info:
        check_address(address, [])
    message = str(info.value)
    assert f"address {address}" in message
    assert "unless NEWSMON_ALLOWED_NETWORKS" in message
    assert message.endswith(f"(e.g. NEWSMON_ALLOWED_NETWORKS={suggested})")
    check_address(address, [ipaddress.ip_network(suggested)])  # the suggestion is the fix


def test_refusal_keeps_the_networks_already_allowed() -> None:
    with pytest.raises(BlockedURL) as info:
        check_address("::1", LOCAL)
    assert info.value.reason == "ssrf_loopback"
    assert "NEWSMON_ALLOWED_NETWORKS=127.0.0.0/8,::1/128" in str(info.value)


def test_refusal_after_dns_names_the_fix(site: Site) -> None:
    # A hostname is refused after resolution, in the backend; the fix is named there too.
    with pytest.raises(BlockedURL) as info:
        fetch(f"http://localhost:{site.port}/echo", make_settings())
    assert info.value.reason == "ssrf_loopback"
    assert "NEWSMON_ALLOWED_NETWORKS=" in str(info.value)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    check_address(address, [])


def test_allowed_networks_open_exactly_their_range() -> None:
    check_address("127.0.0.1", LOCAL)
    check_address("::ffff:127.0.0.1", LOCAL)  # the same host, spelt in IPv6
    check_address("10.9.8.7", [ipaddress.ip_network("10.0.0.0/8")])
    with pytest.raises(BlockedURL):
        check_address("::1", LOCAL)
    with pytest.raises(BlockedURL):
        check_address("169.254.169.254", LOCAL)


# --- URL vetting ----------------------------------------------------------

@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://example.org/", "gopher://example.org:70/",
    "javascript:alert(1)", "data:text/html,<b>x</b>", "ws://example.org/",
])
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(BlockedURL) as info:
        check_url(url, [])
    assert info.value.reason == "scheme"


@pytest.mark.parametrize("url", [
    "http://user:pw@example.org/", "http://example.org@127.0.0.1/", "https://a@b/",
])
def test_credentials_in_url_are_refused(url: str) -> None:
    with pytest.raises(BlockedURL) as info:
        check_url(url, [])
    assert info.value.reason == "userinfo"


def test_hostless_and_malformed_urls_are_refused() -> None:
    for url in ("http:///path", "http://[::1/", "not a url"):
        with pytest.raises(BlockedURL):
            check_url(url, [])


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://0.0.0.0:80/",
    "http://[::ffff:169.254.169.254]/", "http://[fd00::1]/", "http://100.64.0.1/",
])
def test_forbidden_literals_refused_before_network(url: str) -> None:
    # The whole Fetcher path must refuse these without opening a socket.
    with pytest.raises(BlockedURL):
        check_url(url, [])
    with pytest.raises(BlockedURL):
        fetch(url, make_settings())


# --- real connections to the test site --------------------------------------

def test_local_site_works_when_allowed(site: Site) -> None:
    assert fetch(site.url("/echo"), make_settings(allowed_networks=["127.0.0.0/8"])).status == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "0.0.0.0",
                                  "[::ffff:127.0.0.1]", "2130706433", "0x7f.1"])
def test_loopback_refused_before_connecting(site: Site, host: str) -> None:
    path = f"/guard/never/{host.strip('[]')}"
    site.route(path, body=b"should not be reached")
    with pytest.raises(BlockedURL) as info:
        fetch(f"http://{host}:{site.port}{path}", make_settings())
    assert info.value.reason.startswith("ssrf_")
    assert site.hits[path] == 0


@pytest.mark.parametrize("target", [
    "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/admin",
    "http://[::1]:{port}/guard/after-redirect", "file:///etc/passwd",
])
def test_redirect_to_forbidden_address_is_refused(site: Site, target: str) -> None:
    target = target.format(port=site.port)
    settings = make_settings(allowed_networks=["127.0.0.0/8"])
    site.route("/guard/after-redirect")
    with pytest.raises(BlockedURL):
        fetch(site.url("/redirect/302?to=" + quote(target, safe="")), settings)
    assert site.hits["/guard/after-redirect"] == 0


def test_unknown_host_is_dns_error() -> None:
    with pytest.raises(FetchError) as info:
        fetch("http://no-such-host.invalid/", make_settings())
    assert info.value.reason == "dns_error"


# --- the backend seam -------------------------------------------------------

def test_transport_seam_carries_the_guard() -> None:
    transport = guarded_transport(LOCAL)
    backend = transport._pool._network_backend
    assert isinstance(backend, GuardedBackend) and backend.allowed == tuple(LOCAL)


def test_backend_pins_the_checked_address(site: Site) -> None:
    # "localhost" may answer ::1 and 127.0.0.1; only the allowed one is dialled.
    async def run() -> tuple[str, int]:
        stream = await GuardedBackend(LOCAL).connect_tcp("localhost", site.port, timeout=2)
        try:
            return stream.get_extra_info("server_addr")[:2]
        finally:
            await stream.aclose()

    assert asyncio.run(run()) == ("127.0.0.1", site.port)


def test_host_header_keeps_the_name(site: Site) -> None:
    settings = make_settings(allowed_networks=["127.0.0.0/8"])
    body = fetch(f"http://localhost:{site.port}/echo", settings).body
    assert f'"Host": "localhost:{site.port}"'.encode() in body
