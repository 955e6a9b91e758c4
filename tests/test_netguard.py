"""Which addresses a URL may reach (the service's SSRF guard), decided without any network."""

from __future__ import annotations

import pytest

from summarizer.netguard import ALLOW_ALL, ForbiddenURL, UrlPolicy, fetch

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "::ffff:127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "240.0.0.1",
    "fe80::1%eth0",
    "fc00::1",
]


@pytest.mark.parametrize("address", REFUSED)
def test_private_loopback_link_local_and_reserved_addresses_are_refused(address):
    with pytest.raises(ForbiddenURL, match="refusing to fetch"):
        UrlPolicy().check_address(address, "http://example.test/")


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_pass(address):
    UrlPolicy().check_address(address, "http://example.test/")


def test_listed_networks_and_allow_all_open_private_addresses():
    UrlPolicy(allow_networks=("10.20.0.0/16",)).check_address("10.20.3.4", "http://intranet/")
    with pytest.raises(ForbiddenURL):
        UrlPolicy(allow_networks=("10.20.0.0/16",)).check_address("10.21.0.1", "http://intranet/")
    ALLOW_ALL.check_address("127.0.0.1", "http://localhost/")


def test_a_host_is_checked_on_every_address_it_resolves_to_before_any_connection():
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["93.184.216.34", "10.0.0.5"]  # one public, one private: refused as a whole

    with pytest.raises(ForbiddenURL):
        fetch("http://mixed.example/", policy=UrlPolicy(), max_bytes=1000, timeout=1, resolver=resolver)
    assert asked == ["mixed.example"]
