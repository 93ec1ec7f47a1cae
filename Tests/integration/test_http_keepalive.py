"""Connection management in HTTP mode: keep-alive on both sides (default), `option http-server-close`,
`option httpclose`, `http-reuse`, and `timeout http-keep-alive`."""

import time

import pytest

from httpclient import HttpConn, http_config


def test_default_keepalive_both_sides(sluice, backends, fe):
    be = backends.http()
    sl = sluice(http_config("", {"be": f"server s1 {be.addr}"}), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        for i in range(20):
            r = c.request("GET", f"/k{i}")
            assert r.status == 200 and not r.closes(), r
    assert be.accepted == 1, f"20 requests on one client connection used {be.accepted} server connections"
    assert be.conn_requests() == [20]


def test_keepalive_client_across_servers_reuses_each_server_connection(sluice, backends, fe):
    """Round robin over two servers on one keep-alive client connection: leaving a server parks its connection
    instead of closing it, and coming back takes it again (`http-reuse safe`: not the client's first request)."""
    s1, s2 = backends.http("s1"), backends.http("s2")
    sl = sluice(http_config("", {"be": f"balance roundrobin\nserver s1 {s1.addr}\nserver s2 {s2.addr}"}),
                fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        names = []
        for i in range(6):
            r = c.request("GET", f"/rr{i}")
            assert r.status == 200 and not r.closes(), r
            names.append(r.header("x-backend"))
    assert sorted(names) == ["s1"] * 3 + ["s2"] * 3, names
    assert (s1.accepted, s2.accepted) == (1, 1), f"server connections: s1 {s1.accepted}, s2 {s2.accepted}"
    assert s1.conn_requests() == [3] and s2.conn_requests() == [3]


def test_http_server_close(sluice, backends, fe):
    """The server connection is closed after each response; the client connection stays open."""
    be = backends.http()
    sl = sluice(http_config("option http-server-close", {"be": f"server s1 {be.addr}"}), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        for i in range(5):
            r = c.request("GET", f"/sc{i}")
            assert r.status == 200, r
            assert not r.closes(), f"the client side stays keep-alive: {r!r}"
            be.wait(lambda: be.accepted == i + 1 and be.conns[i].closed, 3,
                    f"server connection {i} closed after its response")
    assert be.conn_requests() == [1] * 5


def test_httpclose(sluice, backends, fe):
    """Both connections are closed after each response."""
    be = backends.http()
    sl = sluice(http_config("option httpclose", {"be": f"server s1 {be.addr}"}), fds={"FE1": fe()})
    for i in range(3):
        with HttpConn(sl.ports["FE1"]) as c:
            r = c.request("GET", f"/hc{i}")
            assert r.status == 200, r
            assert r.closes(), f"the response says Connection: close: {r!r}"
            assert c.closed_by_peer(3), f"request {i}: the client connection must close after the response"
        be.wait(lambda: be.accepted == i + 1 and be.conns[i].closed, 3, f"server connection {i} closed")
    assert be.conn_requests() == [1, 1, 1]


def test_http_reuse_always_shares_idle_server_connections(sluice, backends, fe):
    """Five clients one after the other, one request each: with `http-reuse always` the backend sees fewer
    connections than requests (idle server connections are reused across client connections)."""
    be = backends.http()
    sl = sluice(http_config("", {"be": f"http-reuse always\nserver s1 {be.addr}"}), fds={"FE1": fe()})
    for i in range(5):
        with HttpConn(sl.ports["FE1"]) as c:
            assert c.request("GET", f"/ru{i}").status == 200
    assert len(be.seen()) == 5
    assert be.accepted <= 2, f"5 requests from 5 successive clients used {be.accepted} server connections " \
                             f"(expected 1: nothing else is in flight, an idle one is always there to reuse)"


def test_timeout_http_keepalive_closes_idle_client(sluice, backends, fe):
    """`timeout http-keep-alive 300ms` (timeout client 10s): an idle keep-alive client connection is closed after
    about 300 ms, while one that keeps sending requests faster than that stays open."""
    be = backends.http()
    sl = sluice(http_config("timeout http-keep-alive 300ms", {"be": f"server s1 {be.addr}"}), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        for i in range(8):  # ~0.8 s of requests, 100 ms apart: never idle for 300 ms
            assert c.request("GET", f"/busy{i}").status == 200
            assert not c.closed_by_peer(0.1), f"closed while active (after request {i})"
        t0 = time.monotonic()
        assert c.closed_by_peer(3), "the idle keep-alive connection was not closed"
        elapsed = time.monotonic() - t0
    assert 0.15 <= elapsed < 2.0, f"idle connection closed after {elapsed:.2f}s, timeout http-keep-alive 300ms"


@pytest.mark.sluice_only("issue 3 item 2 / PRODUCT.md: hop-by-hop headers removed; HAProxy 2.6 forwards them "
                         "(it only drops the keep-alive token)")
def test_hop_by_hop_headers_removed(sluice, backends, fe):
    """RFC 9110 7.6.1: a proxy removes Connection and every header it names, and Keep-Alive / Proxy-Connection,
    both ways. HAProxy 2.6 forwards X-Hop, Keep-Alive and Proxy-Connection as they are."""
    be = backends.http()
    sl = sluice(http_config("", {"be": f"server s1 {be.addr}"}), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        r = c.request("GET", "/h?hdr=Keep-Alive:timeout%3D5&hdr=X-Hop-Resp:1&hdr=Connection:X-Hop-Resp"
                             "&hdr=X-End-To-End:yes",
                      [("Connection", "keep-alive, X-Hop"), ("X-Hop", "secret"), ("Keep-Alive", "timeout=5"),
                       ("Proxy-Connection", "keep-alive"), ("X-End-To-End", "yes")])
    assert r.status == 200, r
    (req,) = be.seen()
    for h in ("x-hop", "keep-alive", "proxy-connection"):
        assert not req.has(h), f"hop-by-hop request header {h} reached the backend: {req.headers}"
    assert "x-hop" not in (req.header("connection") or "").lower(), req.headers
    assert req.header("x-end-to-end") == "yes"
    for h in ("x-hop-resp", "keep-alive"):
        assert not r.has(h), f"hop-by-hop response header {h} reached the client: {r.headers}"
    assert r.header("x-end-to-end") == "yes"
