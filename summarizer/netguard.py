"""Fetching a URL without being turned against the network we run in (SSRF).

A service that fetches URLs its callers name must not let them reach loopback, private,
link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast or reserved
addresses. The host is resolved here, every address it resolves to is checked, and the
connection goes to the checked address (so a second DNS answer cannot swap it: no
rebinding); redirects are followed by hand and each hop is checked the same way.
The command line uses the same code with a policy that allows everything: a user's
own machine is theirs to fetch from.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from .errors import InputError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
_REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "summarizer (+https://pypi.org/project/summarizer)"
_log = logging.getLogger("summarizer.netguard")


class ForbiddenURL(InputError):
    """The URL points somewhere the policy does not allow (a private address, another scheme)."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InputError(f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class UrlPolicy:
    """Which addresses may be fetched. ``allow_private`` opens everything; ``allow_networks`` opens
    only the listed networks (e.g. an intranet news server: ``["10.20.0.0/16"]``)."""

    allow_private: bool = False
    allow_networks: Sequence[str] = field(default_factory=tuple)

    def check_address(self, address: str, url: str) -> None:
        ip: Address = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if self.allow_private or any(ip in ipaddress.ip_network(n, strict=False) for n in self.allow_networks):
            return
        if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
            # The address stays in our log: a caller told it would learn the internal DNS through us.
            _log.info("refused to fetch %s: its address %s is not public", url, ip)
            raise ForbiddenURL(
                f"refusing to fetch {url}: its host is not a public address (private, loopback, "
                "link-local or reserved)",
                hint="allow it with SUMMARIZER_FETCH_ALLOW_NETWORKS",
            )


ALLOW_ALL = UrlPolicy(allow_private=True)


def fetch(
    url: str,
    *,
    policy: UrlPolicy = ALLOW_ALL,
    max_bytes: int,
    timeout: float,
    max_redirects: int = 5,
    resolver: Resolver = system_resolver,
) -> tuple[bytes, str, dict[str, str]]:
    """GET ``url`` within ``policy``; returns (body, final URL, response headers). Raises InputError."""
    import urllib3

    for _ in range(max_redirects + 1):
        scheme, host, port, target = _split(url)
        addresses = [host] if _is_ip(host) else resolver(host, port)
        if not addresses:
            raise InputError(f"cannot resolve {host}")
        for address in addresses:
            policy.check_address(address, url)
        headers = {
            "Host": host if port in (80, 443) else f"{host}:{port}",
            "User-Agent": USER_AGENT,
            "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5",
        }
        pool: Any
        if scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                addresses[0],
                port,
                server_hostname=host,
                assert_hostname=host,
                cert_reqs="CERT_REQUIRED",
                timeout=urllib3.Timeout(total=timeout),
            )
        else:
            pool = urllib3.HTTPConnectionPool(addresses[0], port, timeout=urllib3.Timeout(total=timeout))
        try:
            response = pool.urlopen(
                "GET", target, headers=headers, redirect=False, retries=False, preload_content=False
            )
        except urllib3.exceptions.HTTPError as exc:
            reason = getattr(exc, "reason", None) or exc
            raise InputError(f"cannot fetch {url}: {reason}") from None
        try:
            if response.status in _REDIRECTS and response.headers.get("location"):
                url = urljoin(url, response.headers["location"])
                continue
            if response.status >= 400:
                raise InputError(f"cannot fetch {url}: HTTP {response.status}")
            data = response.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise InputError(f"{url} is over the {max_bytes:,}-byte limit")
            return bytes(data), url, {k.lower(): v for k, v in response.headers.items()}
        except urllib3.exceptions.HTTPError as exc:
            raise InputError(f"cannot fetch {url}: {exc}") from None
        finally:
            response.release_conn()
            pool.close()
    raise InputError(f"cannot fetch {url}: more than {max_redirects} redirects")


def _split(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InputError(f"not a valid URL: {url} ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ForbiddenURL(f"refusing to fetch {url}: only http and https URLs are fetched")
    host = parts.hostname
    if not host:
        raise InputError(f"not a valid URL: {url} (no host)")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return scheme, host, port or (443 if scheme == "https" else 80), target


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True
