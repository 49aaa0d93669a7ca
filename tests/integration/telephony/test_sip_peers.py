"""The test peers themselves: a port taken between the probe and baresip's bind (CI once saw
baresip exit with EADDRINUSE because its SIP port was busy for TCP) is retried on a fresh one."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests import sip_peers
from tests.sip_peers import baresip, free_sip_port


def _silence() -> bytes:
    return b"\x00\x00" * 8000


def test_the_probe_finds_a_port_free_for_udp_and_tcp() -> None:
    port = free_sip_port()
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
    ):
        udp.bind(("127.0.0.1", port))
        tcp.bind(("127.0.0.1", port))


def test_baresip_starts_again_on_a_fresh_port_when_its_port_is_taken_for_tcp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken])
        fresh = sip_peers.free_sip_port
        monkeypatch.setattr(sip_peers, "free_sip_port", lambda: next(ports, None) or fresh())
        with baresip(tmp_path, _silence()) as peer:
            assert peer.port != taken
            assert peer.process.poll() is None


def test_a_port_the_caller_chose_is_not_changed_behind_its_back(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        with pytest.raises(sip_peers.PortTaken), baresip(tmp_path, _silence(), port=taken):
            pass
