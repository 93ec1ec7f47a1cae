"""Bytes through the proxy: integrity of a large transfer, half-close both ways, many concurrent connections."""

import os
import random
import selectors
import socket

from conftest import Deadline, _read, base_config, connect, recv_until_eof, sha, transfer


def listen_cfg(be_addr: str, extra: str = "") -> str:
    return base_config() + f"""
listen app
    bind "fd@${{FE1}}"
{extra}
    server s1 {be_addr}
"""


def test_20mb_random_bytes_echo_sha256_both_ways(sluice, backends, fe):
    be = backends.echo()
    sl = sluice(listen_cfg(be.addr), fds={"FE1": fe()})
    payload = os.urandom(20 * 1024 * 1024)
    with connect(sl.ports["FE1"]) as c:
        got = transfer(c, payload, timeout=45)
    assert len(got) == len(payload), f"client received {len(got)} bytes back, sent {len(payload)}"
    assert sha(got) == sha(payload), "bytes echoed back differ from bytes sent (sha256 mismatch)"
    be.wait(lambda: be.accepted == 1 and be.conns[0].closed, 10, "backend connection closed")
    conn = be.conns[0]
    assert conn.received == len(payload), f"backend received {conn.received} bytes, client sent {len(payload)}"
    assert conn.sha.hexdigest() == sha(payload), "bytes the backend received differ from what the client sent"
    assert be.accepted == 1, f"expected exactly one backend connection, saw {be.accepted}"


def test_half_close_client_first(sluice, backends, fe):
    """Client sends, then SHUT_WR; the backend sees EOF, answers after EOF, closes; the client gets the answer
    then EOF."""

    async def reply_after_eof(backend, conn, reader, writer):
        while await _read(backend, conn, reader):
            pass
        writer.write(b"got %d bytes sha256 %s\n" % (conn.received, conn.sha.hexdigest().encode()))
        await writer.drain()

    be = backends.start(reply_after_eof, "reply-after-eof")
    sl = sluice(listen_cfg(be.addr), fds={"FE1": fe()})
    payload = os.urandom(300_000)
    with connect(sl.ports["FE1"]) as c:
        c.sendall(payload)
        c.shutdown(socket.SHUT_WR)
        answer = recv_until_eof(c, 10)
    expected = b"got %d bytes sha256 %s\n" % (len(payload), sha(payload).encode())
    assert answer == expected, f"expected the backend's post-EOF answer {expected!r} then EOF, got {answer!r}"
    be.wait(lambda: be.conns and be.conns[0].saw_eof, 5, "backend saw the client's EOF")


def test_half_close_server_first(sluice, backends, fe):
    """Backend sends a greeting then SHUT_WR; the client reads it and EOF, yet can still send; the backend
    receives everything the client sends after that, then sees EOF."""

    async def greet_then_half_close(backend, conn, reader, writer):
        writer.write(b"hello from server\n")
        await writer.drain()
        writer.write_eof()
        while True:
            data = await _read(backend, conn, reader)
            if not data:
                break
            with backend.cond:
                conn.data += data

    be = backends.start(greet_then_half_close, "half-closer")
    sl = sluice(listen_cfg(be.addr), fds={"FE1": fe()})
    late = b"".join(b"late line %06d\n" % i for i in range(20000))  # ~320 KB after the server's FIN
    with connect(sl.ports["FE1"]) as c:
        greeting = recv_until_eof(c, 5)
        assert greeting == b"hello from server\n", f"expected greeting then EOF, got {greeting!r}"
        c.sendall(late)  # the client's direction must still be open
        c.shutdown(socket.SHUT_WR)
        rest = recv_until_eof(c, 10)
        assert rest == b"", f"nothing expected after the server's FIN, got {rest[:80]!r}"
    be.wait(lambda: be.conns and be.conns[0].closed, 10, "backend connection finished")
    conn = be.conns[0]
    assert conn.saw_eof, "backend never saw the client's EOF"
    assert bytes(conn.data) == late, (f"backend received {len(conn.data)} bytes after its half-close, "
                                      f"expected {len(late)} (content equal: {bytes(conn.data) == late})")


def run_many(port: int, payloads: list[bytes], timeout: float) -> list[bytes]:
    """Drive len(payloads) concurrent connections with a selector: each connects, sends its payload while
    reading, half-closes, reads until EOF. Returns what each connection received."""
    sel = selectors.DefaultSelector()
    n = len(payloads)
    sent = [0] * n
    got = [bytearray() for _ in range(n)]
    done = [False] * n
    socks = []
    try:
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            socks.append(s)
            sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, i)
        remaining = n
        dl = Deadline(timeout)
        while remaining:
            if dl.expired():
                lagging = [i for i in range(n) if not done[i]][:10]
                detail = ", ".join(f"#{i}: sent {sent[i]}/{len(payloads[i])} got {len(got[i])}" for i in lagging)
                raise AssertionError(f"{remaining}/{n} connections unfinished after {timeout}s ({detail})")
            for key, ev in sel.select(min(0.5, dl.left())):
                i = key.data
                s = key.fileobj
                if ev & selectors.EVENT_WRITE:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise AssertionError(f"connection #{i}: connect failed: {os.strerror(err)}")
                    try:
                        sent[i] += s.send(memoryview(payloads[i])[sent[i]:sent[i] + 65536])
                    except BlockingIOError:
                        pass
                    if sent[i] == len(payloads[i]):
                        s.shutdown(socket.SHUT_WR)
                        sel.modify(s, selectors.EVENT_READ, i)
                if ev & selectors.EVENT_READ:
                    try:
                        data = s.recv(262144)
                    except BlockingIOError:
                        continue
                    except ConnectionResetError:
                        raise AssertionError(f"connection #{i} reset after {len(got[i])} bytes")
                    if data:
                        got[i] += data
                    else:
                        if sent[i] < len(payloads[i]):
                            raise AssertionError(f"connection #{i}: EOF before it finished sending "
                                                 f"({sent[i]}/{len(payloads[i])}), got {len(got[i])} bytes")
                        sel.unregister(s)
                        done[i] = True
                        remaining -= 1
    finally:
        for s in socks:
            s.close()
        sel.close()
    return [bytes(g) for g in got]


def test_500_concurrent_connections_each_gets_its_own_payload(sluice, backends, fe):
    be = backends.echo()
    # maxconn 1000 on the proxy: HAProxy sizes its listen backlog from it.
    sl = sluice(listen_cfg(be.addr, "    maxconn 1000"), fds={"FE1": fe()})
    rng = random.Random(500)
    payloads = [b"conn %04d|" % i + os.urandom(rng.randint(4096, 65536)) for i in range(500)]
    got = run_many(sl.ports["FE1"], payloads, timeout=45)
    wrong = [i for i in range(500) if got[i] != payloads[i]]
    if wrong:
        i = wrong[0]
        raise AssertionError(f"{len(wrong)} of 500 connections got something other than their own payload; "
                             f"first: #{i} sent {len(payloads[i])} bytes starting {payloads[i][:10]!r}, got "
                             f"{len(got[i])} bytes starting {got[i][:10]!r}")
    be.wait(lambda: be.accepted == 500 and be.current == 0, 10, "500 backend connections, all closed")
    assert sl.alive()
