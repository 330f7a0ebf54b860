"""SSRF guard: feeds are user data, so every URL they name is untrusted.

A feed (or a redirect it sends us to) may point at ``http://169.254.169.254/``,
``http://localhost:6379/`` or a hostname whose DNS answer is private. Three
checks stop that:

1. ``check_url`` refuses other schemes, credentials in the URL, and IP
   literals in forbidden ranges before anything touches the network.
2. ``GuardedBackend.connect_tcp`` resolves the hostname itself, checks every
   answer with ``check_address`` and connects to a checked IP. The socket is
   opened to that IP, never to the name, so a DNS answer cannot change between
   check and connect (rebinding). TLS SNI and the Host header still carry the
   hostname, because httpcore takes them from the request, not from the socket.
3. ``guarded_transport`` installs that backend in the httpx transport, so
   every connection the client opens, for every redirect hop, goes through 2.

``allowed_networks`` (settings) lets an operator fetch from an intranet or
the test suite fetch from 127.0.0.1; every address refusal names it and the
smallest network to add, so the fix is in the error message.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from typing import Any

import anyio
import httpx
from httpcore import AnyIOBackend, AsyncNetworkStream, ConnectError, ConnectTimeout

from pipeline.errors import BlockedURL, FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})

# Special-purpose ranges (IANA registries) that the stdlib flags do not all
# cover in every Python 3.11 patch release; listed so the policy is explicit.
_SPECIAL: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), why)
    for net, why in (
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "cgnat"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link_local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"),
        ("192.0.2.0/24", "reserved"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "reserved"),
        ("198.51.100.0/24", "reserved"),
        ("203.0.113.0/24", "reserved"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("100::/64", "reserved"),
        ("2001::/23", "reserved"),
        ("2001:db8::/32", "reserved"),
        ("fc00::/7", "private"),
        ("fe80::/10", "link_local"),
        ("fec0::/10", "link_local"),
        ("ff00::/8", "multicast"),
    )
)
# What a refusal suggests opening: the smallest of these that holds the
# address, else the address alone, so the fix never opens more than needed.
_SUGGESTED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net)
    for net in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                "169.254.0.0/16", "::1/128", "fc00::/7", "fe80::/10")
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_COMPAT = ipaddress.ip_network("::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form reaches: mapped, NAT64, 6to4, compatible."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _NAT64) or (ip in _COMPAT and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _why_blocked(ip: IPAddress) -> str | None:
    for net, why in _SPECIAL:
        if ip.version == net.version and ip in net:
            return why
    flags = (
        ("loopback", ip.is_loopback), ("private", ip.is_private),
        ("link_local", ip.is_link_local), ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified), ("reserved", ip.is_reserved),
    )
    for why, flagged in flags:
        if flagged:
            return why
    return None if ip.is_global else "not_global"


def _suggested_network(ip: IPAddress) -> IPNetwork:
    holding = [net for net in _SUGGESTED if net.version == ip.version and ip in net]
    if holding:
        return max(holding, key=lambda net: net.prefixlen)
    return ipaddress.ip_network(ip)  # /32 or /128


def _refusal(ip: IPAddress | str, address: IPAddress, why: str,
             allowed: Sequence[IPNetwork]) -> str:
    """The refusal, naming the setting that lifts it and the value to give it."""
    spelt = ipaddress.ip_address(str(ip).split("%")[0])
    reaches = "" if spelt == address else f" (it reaches {address})"
    value = ",".join([*(str(net) for net in allowed), str(_suggested_network(address))])
    return (f"address {ip}{reaches} is {why.replace('_', '-')}; newsmon refuses private, "
            "loopback, link-local and other non-public addresses unless "
            "NEWSMON_ALLOWED_NETWORKS (allowed_networks in the settings file) lists them "
            f"(e.g. NEWSMON_ALLOWED_NETWORKS={value})")


def check_address(ip: IPAddress | str, allowed: Sequence[IPNetwork]) -> None:
    """Raise BlockedURL unless ``ip`` is public or inside an allowed network."""
    try:
        address = ipaddress.ip_address(ip.split("%")[0] if isinstance(ip, str) else ip)
    except ValueError as exc:
        raise BlockedURL(f"{ip!r} is not an IP address", reason="invalid_address") from exc
    if isinstance(address, ipaddress.IPv6Address):
        # The wrapper prefixes are translation mechanisms, not destinations:
        # what the packet reaches is the embedded IPv4 address, so judge that.
        address = _embedded_ipv4(address) or address
    if any(address.version == net.version and address in net for net in allowed):
        return
    why = _why_blocked(address)
    if why is not None:
        raise BlockedURL(_refusal(ip, address, why, allowed), reason=f"ssrf_{why}")


def check_url(url: str | httpx.URL, allowed: Sequence[IPNetwork]) -> httpx.URL:
    """Parse and vet a URL before any network access; returns the parsed URL."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise BlockedURL(f"invalid URL {str(url)[:200]!r}: {exc}", reason="invalid_url") from exc
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise BlockedURL(f"scheme {parsed.scheme!r} is not fetched", reason="scheme")
    if parsed.userinfo:
        # user:pass@ is how "http://trusted.example@evil.example/" hides its
        # real host from a reader; no feed needs credentials in its links.
        raise BlockedURL("credentials in URL are refused", reason="userinfo")
    if not parsed.host:
        raise BlockedURL(f"URL {str(url)[:200]!r} has no host", reason="invalid_url")
    try:
        literal = ipaddress.ip_address(parsed.host)
    except ValueError:
        return parsed  # a hostname: checked after resolution, in GuardedBackend
    check_address(literal, allowed)
    return parsed


async def resolve(host: str, port: int) -> list[IPAddress]:
    """DNS answers for host (A and AAAA), in resolver order, duplicates removed."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host!r}: {exc}", reason="dns_error") from exc
    seen: dict[IPAddress, None] = {}
    for _family, _type, _proto, _canon, sockaddr in infos:
        seen.setdefault(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]), None)
    return list(seen)


class GuardedBackend(AnyIOBackend):
    """httpcore network backend that resolves, checks and pins every connection."""

    def __init__(self, allowed: Iterable[IPNetwork]) -> None:
        self.allowed = tuple(allowed)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):  # DNS counts toward the connect timeout
                addresses = await resolve(host, port)
        except TimeoutError as exc:
            raise ConnectTimeout(f"resolving {host!r} timed out") from exc
        # Unsafe answers are dropped rather than failing the host: since the
        # socket goes to a checked IP, a mixed answer cannot smuggle the bad one in.
        checked: list[IPAddress] = []
        refusal: BlockedURL | None = None
        for ip in addresses:
            try:
                check_address(ip, self.allowed)
                checked.append(ip)
            except BlockedURL as exc:
                refusal = refusal or exc
        if not checked:
            if refusal is None:
                raise FetchError(f"{host!r} resolved to no address", reason="dns_error")
            raise BlockedURL(f"{host}: {refusal}", reason=refusal.reason)
        for ip in checked[:-1]:
            try:
                return await super().connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options,
                )
            except ConnectError:
                continue  # try the next checked address, as a resolver-order client would
        return await super().connect_tcp(
            str(checked[-1]), port, timeout=timeout, local_address=local_address,
            socket_options=socket_options,
        )


def guarded_transport(allowed: Iterable[IPNetwork], **kwargs: Any) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every TCP connection goes through GuardedBackend."""
    transport = httpx.AsyncHTTPTransport(**kwargs)
    # The seam: httpx 0.28 builds an httpcore.AsyncConnectionPool and offers no
    # public way to pass a network backend; the pool hands ``_network_backend``
    # to every connection it creates, so replacing it before the first request
    # covers all of them. tests/test_guard.py fails if this seam moves.
    pool = transport._pool
    if not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpcore changed: AsyncConnectionPool._network_backend is gone")
    pool._network_backend = GuardedBackend(allowed)
    return transport


__all__ = ["GuardedBackend", "check_address", "check_url", "guarded_transport", "resolve"]
