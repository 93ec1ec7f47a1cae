"""WebSocket through the proxy: the Upgrade handshake, frames echoed both ways, and `timeout tunnel`."""

import os
import time

from httpclient import HttpConn, http_config, ws_handshake, ws_recv, ws_send

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def test_websocket_upgrade_and_echo(sluice, backends, fe):
    be = backends.http("ws")
    sl = sluice(http_config("", {"be": f"server s1 {be.addr}"}), fds={"FE1": fe()})
    messages = [(TEXT, b"hello"), (TEXT, "héllo wörld".encode()), (BINARY, os.urandom(200)),
                (BINARY, os.urandom(70_000)), (TEXT, b""), (BINARY, os.urandom(125)), (BINARY, os.urandom(126))]
    with HttpConn(sl.ports["FE1"]) as c:
        ws_handshake(c, "/chat")
        for opcode, data in messages:  # one at a time
            ws_send(c, opcode, data)
            assert ws_recv(c) == (opcode, data), f"echo of a {len(data)}-byte frame"
        for opcode, data in messages:  # several in flight
            ws_send(c, opcode, data)
        for opcode, data in messages:
            assert ws_recv(c) == (opcode, data)
        ws_send(c, PING, b"are you there")
        assert ws_recv(c) == (PONG, b"are you there")
        ws_send(c, CLOSE, b"\x03\xe8bye")
        assert ws_recv(c) == (CLOSE, b"\x03\xe8bye")
        assert c.closed_by_peer(3), "the tunnel closes once the server closed"
    (req,) = be.seen()
    assert req.path == "/chat" and "websocket" in req.header("upgrade").lower(), req.headers
    assert "upgrade" in req.header("connection").lower(), f"Connection: Upgrade is forwarded: {req.headers}"
    assert be.ws_messages == messages * 2, "the backend received different messages"
    assert not be.ws_errors, be.ws_errors


def ws_config(be, tunnel: bool) -> str:
    return http_config("timeout client 300ms",
                       {"be": f"timeout server 300ms\n{'timeout tunnel 5s' if tunnel else ''}\n"
                              f"server s1 {be.addr}"})


def test_timeout_tunnel_keeps_websocket_alive(sluice, backends, fe):
    """`timeout tunnel 5s` governs the upgraded connection: idle for 1 s, over three times `timeout client` and
    `timeout server` (300 ms), it still echoes."""
    be = backends.http("ws")
    sl = sluice(ws_config(be, tunnel=True), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        ws_handshake(c)
        ws_send(c, TEXT, b"before")
        assert ws_recv(c) == (TEXT, b"before")
        for i in range(2):
            assert not c.closed_by_peer(1.0), f"idle WebSocket closed before timeout tunnel (pause {i})"
            ws_send(c, TEXT, b"after pause %d" % i)
            assert ws_recv(c) == (TEXT, b"after pause %d" % i)


def test_without_timeout_tunnel_client_timeout_applies(sluice, backends, fe):
    """Control for the test above: without `timeout tunnel`, the same idle WebSocket is closed by
    `timeout client`/`timeout server` (300 ms)."""
    be = backends.http("ws")
    sl = sluice(ws_config(be, tunnel=False), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        ws_handshake(c)
        ws_send(c, TEXT, b"before")
        assert ws_recv(c) == (TEXT, b"before")
        t0 = time.monotonic()
        assert c.closed_by_peer(3.0), "an idle tunnel without timeout tunnel outlived timeout client"
        elapsed = time.monotonic() - t0
    assert 0.2 <= elapsed < 2.0, f"closed after {elapsed:.2f}s idle (timeout client/server 300ms)"
