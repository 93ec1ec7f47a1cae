"""`bind` address forms sluice opens itself: unix@ paths, IPv6, several addresses on one line, and
a bind failure that refuses to start.
(Port ranges are parsed by the config tests; binding one here would need consecutive free ports.) (Most other tests pass inherited fd@ sockets to avoid port races; these
must bind for real. Ports are picked free right before start; the race window is tiny.)"""

import socket

import pytest

from conftest import base_config, echo_roundtrip, _free_port


def unix_echo(path: str, payload: bytes) -> bytes:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    try:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            d = s.recv(65536)
            if not d:
                return got
            got += d
    finally:
        s.close()


def free_port6() -> int:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.bind(("::1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unix_socket_bind(sluice, backends, tmp_path):
    be = backends.echo()
    path = str(tmp_path / "fe.sock")
    sl = sluice(base_config() + f"""
frontend fe
    bind unix@{path}
    default_backend be

backend be
    server s1 {be.addr}
""")
    assert unix_echo(path, b"over a unix socket\n") == b"over a unix socket\n"
    assert sl.alive()


def test_ipv6_and_several_addresses(sluice, backends):
    be = backends.echo()
    p6 = free_port6()
    p1, p2 = _free_port(), _free_port()
    sl = sluice(base_config() + f"""
frontend fe
    bind [::1]:{p6}
    bind 127.0.0.1:{p1},127.0.0.1:{p2}
    default_backend be

backend be
    server s1 {be.addr}
""")
    assert echo_roundtrip(p1, b"first\n") == b"first\n"
    assert echo_roundtrip(p2, b"second\n") == b"second\n"
    s = socket.create_connection(("::1", p6), timeout=5)
    s.sendall(b"v6\n")
    assert s.recv(16) == b"v6\n"
    s.close()
    assert sl.alive()


@pytest.mark.sluice_only("the alert wording is sluice's")
def test_bind_failure_refuses_to_start(sluice, backends):
    be = backends.echo()
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        sl = sluice(base_config() + f"""
frontend fe
    bind 127.0.0.1:{port}
    default_backend be

backend be
    server s1 {be.addr}
""", wait_ready=False)
        rc = sl.wait_exit(10)
        assert rc == 1, f"sluice must exit 1 when a bind fails, got {rc}"
        assert "cannot bind socket" in sl.stderr() and f"127.0.0.1:{port}" in sl.stderr(), sl.stderr()
    finally:
        taken.close()
