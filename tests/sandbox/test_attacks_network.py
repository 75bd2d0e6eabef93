"""Network attacks: every listener is opened by the test on the loopback interface."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from python_env.sandbox import ForkServerExecutor
from tests.sandbox.helpers import attack, value

BLOCKED = ("PermissionError", "OSError", "ConnectionRefusedError", "TimeoutError")


@pytest.fixture
def tcp_listener() -> Iterator[socket.socket]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.settimeout(0.3)
        yield server


def _nothing_arrived(server: socket.socket) -> bool:
    try:
        conn, _ = server.accept()
    except TimeoutError:
        return True
    conn.close()
    return False


def test_tcp_to_a_loopback_listener(
    executor: ForkServerExecutor, tcp_listener: socket.socket
) -> None:
    port = tcp_listener.getsockname()[1]
    code = f"""
import socket
def test_connect():
    try:
        s = socket.create_connection(("127.0.0.1", {port}), timeout=2)
        s.sendall(b"GET /stolen")
        return "connected"
    except OSError as exc:
        return type(exc).__name__
"""
    report = attack(executor, code)
    assert value(report, "test_connect") in BLOCKED
    assert _nothing_arrived(tcp_listener)


def test_udp_to_a_loopback_listener(executor: ForkServerExecutor) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(0.3)
        port = server.getsockname()[1]
        code = f"""
import socket
def test_send():
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"exfiltrated", ("127.0.0.1", {port}))
        return "sent"
    except OSError as exc:
        return type(exc).__name__
"""
        report = attack(executor, code)
        assert value(report, "test_send") in BLOCKED
        with pytest.raises(TimeoutError):
            server.recvfrom(100)


def test_dns_query_to_a_loopback_resolver(executor: ForkServerExecutor) -> None:
    """A fake DNS server on 127.0.0.1: a hand-made query (the way DNS tunnelling leaks data)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as resolver:
        resolver.bind(("127.0.0.1", 0))
        resolver.settimeout(0.3)
        port = resolver.getsockname()[1]
        code = f"""
import socket, struct
def test_query():
    labels = b"".join(bytes([len(p)]) + p for p in [b"secret-data", b"evil", b"test"])
    packet = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + labels + b"\\0" + b"\\0\\1\\0\\1"
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1)
        s.sendto(packet, ("127.0.0.1", {port}))
        return "queried"
    except OSError as exc:
        return type(exc).__name__
"""
        report = attack(executor, code)
        assert value(report, "test_query") in BLOCKED
        with pytest.raises(TimeoutError):
            resolver.recvfrom(512)


def test_dns_lookup_of_localhost_names_has_no_resolver(executor: ForkServerExecutor) -> None:
    code = """
import socket
def test_lookup():
    try:
        socket.create_connection(("localhost", 80), timeout=1)
        return "connected"
    except OSError as exc:
        return type(exc).__name__
"""
    report = attack(executor, code)
    assert value(report, "test_lookup") != "connected"


def test_ipv6_loopback(executor: ForkServerExecutor) -> None:
    try:
        server = socket.socket(socket.AF_INET6)
        server.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this host")
    with server:
        server.listen(4)
        server.settimeout(0.3)
        port = server.getsockname()[1]
        code = f"""
import socket
def test_connect6():
    try:
        socket.create_connection(("::1", {port}), timeout=2)
        return "connected"
    except OSError as exc:
        return type(exc).__name__
"""
        report = attack(executor, code)
        assert value(report, "test_connect6") in BLOCKED
        assert _nothing_arrived(server)


@pytest.mark.parametrize("where", ["abstract", "file"])
def test_unix_socket_to_the_host(
    executor: ForkServerExecutor, tmp_path: object, where: str
) -> None:
    """An abstract-namespace socket, and a socket file: Landlock does not cover connect() to a
    socket file (think /var/run/docker.sock)."""
    if where == "abstract":
        address = "\0pyenv-sandbox-test-" + str(id(executor))
    else:
        address = f"{tmp_path}/host.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(address)
        server.listen(4)
        server.settimeout(0.3)
        code = f"""
import socket
def test_connect():
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect({address!r})
        return "connected"
    except OSError as exc:
        return type(exc).__name__
"""
        report = attack(executor, code)
        assert value(report, "test_connect") in (*BLOCKED, "FileNotFoundError")
        assert _nothing_arrived(server)


def test_raw_netlink_and_packet_sockets(executor: ForkServerExecutor) -> None:
    code = """
import socket
def test_families():
    results = []
    for family, kind in [(socket.AF_NETLINK, socket.SOCK_RAW), (socket.AF_PACKET, socket.SOCK_RAW),
                         (socket.AF_INET, socket.SOCK_RAW)]:
        try:
            socket.socket(family, kind)
            results.append("opened")
        except OSError as exc:
            results.append(type(exc).__name__)
    return results
"""
    report = attack(executor, code)
    assert value(report, "test_families") == ["PermissionError"] * 3
