"""Which URLs the server may request: every spelling of a local address is refused."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.domain.outbound_urls import address_refusal, literal_address, url_refusal

# The addresses and spellings the security review used (finding 2), and their relatives.
REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.0.0.1:8000/hook",
    "http://localhost/hook",
    "http://LOCALHOST./hook",
    "http://api.localhost/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/computeMetadata/v1/",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.10/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://0.0.0.0/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one decimal number
    "http://0x7f000001/hook",
    "http://0177.0.0.1/hook",
    "http://127.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:169.254.169.254]/hook",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://[2002:7f00:1::]/hook",  # 6to4 wrapping 127.0.0.1
    "http://224.0.0.1/hook",
    "http://user:pass@crm.example.com/hook",
    "http://crm.example.com@127.0.0.1/hook",
    "ftp://crm.example.com/hook",
    "file:///etc/passwd",
    "http://intranet/hook",
    "http://printer.local/hook",
    "http://crm.example.com:0/hook",
    "http://crm.example.com:99999/hook",
]
ALLOWED = [
    "https://crm.example.com/hooks/ringfence",
    "https://hooks.zapier.com/hooks/catch/1/abc/",
    "http://203.0.113.7.nip.io/hook",  # a name: checked once resolved
    "https://8.8.8.8/hook",
    "https://[2606:4700:4700::1111]/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_local_private_and_odd_urls_are_refused_with_a_reason(url: str) -> None:
    reason = url_refusal(url)
    assert reason is not None
    assert reason.strip()


@pytest.mark.parametrize("url", ALLOWED)
def test_public_urls_pass(url: str) -> None:
    assert url_refusal(url) is None


def test_legacy_ipv4_spellings_are_read_as_a_resolver_reads_them() -> None:
    assert literal_address("2130706433") == ipaddress.IPv4Address("127.0.0.1")
    assert literal_address("0x7f.1") == ipaddress.IPv4Address("127.0.0.1")
    assert literal_address("crm.example.com") is None


@given(st.ip_addresses())
def test_an_address_passes_only_if_it_is_global(address: ipaddress._BaseAddress) -> None:
    assert isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address)
    refused = address_refusal(address) is not None
    embedded = (
        (address.ipv4_mapped or address.sixtofour)
        if isinstance(address, ipaddress.IPv6Address)
        else None
    )
    judged = embedded or address
    assert refused == (not judged.is_global or judged.is_multicast)
