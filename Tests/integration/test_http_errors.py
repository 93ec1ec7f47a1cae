"""Errors on the wire: 502, 503, 504, 408 (slowloris) and 400 for malformed requests that the backend never sees.

Error responses are HAProxy's: the exact status line (HAProxy's reason phrases: `400 Bad request`,
`408 Request Time-out`, `502 Bad Gateway`, `503 Service Unavailable`, `504 Gateway Time-out`), `Content-Type:
text/html`, a Content-Length that matches, and a small HTML body `<html><body><h1>CODE REASON</h1>...`."""

import select
import socket
import time

import pytest

from conftest import Deadline
from httpclient import HttpConn, Response, assert_closed_or_usable, build_request, http_config, one_request

REASONS = {400: "Bad request", 403: "Forbidden", 408: "Request Time-out", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Time-out"}


def assert_error(r: Response, code: int, must_close_header: bool = False):
    reason = REASONS[code]
    assert r.status_line == f"HTTP/1.1 {code} {reason}", f"expected 'HTTP/1.1 {code} {reason}', got {r!r}"
    assert r.header("content-type") == "text/html", r
    assert r.header("content-length") == str(len(r.body)), r
    assert r.body.startswith(b"<html>") and f"<h1>{code} {reason}</h1>".encode() in r.body, r
    if must_close_header:
        assert r.closes(), f"a {code} ends the connection and says so (Connection: close): {r!r}"


def one_backend(be_addr: str, frontend: str = "", backend: str = "", global_extra: str = "") -> str:
    return http_config(frontend, {"be": f"{backend}\nserver s1 {be_addr}"}, global_extra=global_extra)


# ---- 502 / 503 / 504 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("behaviour", ["noanswer", "garbage"])
def test_502_server_closes_or_sends_garbage(sluice, backends, fe, behaviour):
    be = backends.http()
    sl = sluice(one_backend(be.addr), fds={"FE1": fe()})
    r, c = one_request(sl.ports["FE1"], build_request("GET", f"/x?{behaviour}=1"))
    with c:
        assert_error(r, 502)
        assert_closed_or_usable(c, r)
    assert sl.alive()
    with HttpConn(sl.ports["FE1"]) as c:  # the proxy still serves
        assert c.request("GET", "/ok").status == 200


def test_503_all_servers_disabled(sluice, backends, fe):
    be = backends.http()
    sl = sluice(http_config("", {"be": f"server s1 {be.addr} disabled\nserver s2 {be.addr} disabled"}),
                fds={"FE1": fe()})
    r, c = one_request(sl.ports["FE1"], build_request("GET", "/"))
    with c:
        assert_error(r, 503)
    assert b"No server is available" in r.body, r
    assert be.accepted == 0


def test_503_refused_after_retries(sluice, backends, fe):
    dead = backends.refused()
    sl = sluice(one_backend(dead, backend="retries 2\ntimeout connect 200ms"), fds={"FE1": fe()})
    t0 = time.monotonic()
    r, c = one_request(sl.ports["FE1"], build_request("GET", "/"), timeout=8)
    elapsed = time.monotonic() - t0
    with c:
        assert_error(r, 503)
    assert elapsed < 5, f"503 after {elapsed:.2f}s"


def test_504_server_timeout(sluice, backends, fe):
    be = backends.http()
    sl = sluice(one_backend(be.addr, backend="timeout server 500ms"), fds={"FE1": fe()})
    t0 = time.monotonic()
    r, c = one_request(sl.ports["FE1"], build_request("GET", "/x?hang=1"))
    elapsed = time.monotonic() - t0
    with c:
        assert_error(r, 504)
        assert 0.4 <= elapsed < 3, f"504 after {elapsed:.2f}s with timeout server 500ms"
        assert_closed_or_usable(c, r)
    be.wait(lambda: be.conns and be.conns[0].closed, 3, "the timed-out server connection closed by the proxy")


# ---- 408: slowloris ---------------------------------------------------------------------------------------------

def test_slowloris_gets_408(sluice, backends, fe):
    """`timeout http-request 500ms` bounds the time to receive the whole head: a client that sends one byte
    every 100 ms (never idle for 500 ms, but needing ~5 s for its headers) gets a 408 after about 500 ms."""
    be = backends.http()
    sl = sluice(one_backend(be.addr, frontend="timeout http-request 500ms"), fds={"FE1": fe()})
    head = build_request("GET", "/slow", [("User-Agent", "slowloris"), ("X-Padding", "p" * 10)])
    s = socket.create_connection(("127.0.0.1", sl.ports["FE1"]), timeout=5)
    t0 = time.monotonic()
    dl = Deadline(5)
    sent = 0
    try:
        while sent < len(head) - 2 and not dl.expired():  # never completes the head
            try:
                s.send(head[sent:sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 1
            r, _, _ = select.select([s], [], [], 0.1)  # wait for the proxy's answer, at most 100 ms per byte
            if r:
                break
        answered = time.monotonic() - t0
        c = HttpConn(None, sock=s)
        resp = c.read_response()
        assert_error(resp, 408, must_close_header=True)
        assert c.closed_by_peer(2), "the connection closes after the 408"
    finally:
        s.close()
    assert sent < len(head) - 2, "the proxy never answered while the client trickled its headers"
    assert 0.4 <= answered < 2.5, f"408 after {answered:.2f}s ({sent} bytes sent), timeout http-request 500ms"
    assert be.accepted == 0, "an incomplete request never reaches the backend"


# ---- 400: malformed requests, never forwarded ----------------------------------------------------------------

OBS_FOLD = "PRODUCT.md rejects obs-fold (RFC 9112 5.2); HAProxy 2.6 unfolds it and forwards the request"
NUL = "PRODUCT.md rejects NUL in a header value; HAProxy 2.6.12 forwards it"
TE_10 = "PRODUCT.md rejects Transfer-Encoding in HTTP/1.0; HAProxy 2.6 accepts it"

MALFORMED = [
    pytest.param(b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", id="space-in-target"),
    pytest.param(b"GE(T / HTTP/1.1\r\nHost: x\r\n\r\n", id="bad-method-char"),
    pytest.param(b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n", id="junk-after-version"),
    pytest.param(b"GET /\r\nHost: x\r\n\r\n", id="no-version"),
    pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", id="binary-request-line"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nFoo : bar\r\n\r\n", id="space-before-colon"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nFoo: bar\r\n baz\r\n\r\n", id="obs-fold",
                 marks=pytest.mark.sluice_only(OBS_FOLD)),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nFoo: b\x00ar\r\n\r\n", id="nul-in-value",
                 marks=pytest.mark.sluice_only(NUL)),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nFoo: a\rb\r\n\r\n", id="cr-in-value"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nBad[Name]: x\r\n\r\n", id="bad-header-name-char"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nFo\"o: x\r\n\r\n", id="quote-in-header-name"),
    pytest.param(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                 id="duplicate-different-content-length"),
    pytest.param(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!", id="content-length-list"),
    pytest.param(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", id="content-length-plus"),
    pytest.param(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\nhello", id="content-length-negative"),
    pytest.param(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nhello", id="content-length-hex"),
    pytest.param(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
                 id="te-chunked-not-last"),
    pytest.param(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello",
                 id="te-identity"),
    pytest.param(b"POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                 id="te-in-http10", marks=pytest.mark.sluice_only(TE_10)),
]


@pytest.mark.parametrize("raw", MALFORMED)
def test_malformed_request_400_never_forwarded(sluice, backends, fe, raw):
    be = backends.http()
    sl = sluice(one_backend(be.addr), fds={"FE1": fe()})
    r, c = one_request(sl.ports["FE1"], raw)
    with c:
        assert_error(r, 400, must_close_header=True)
        assert c.closed_by_peer(2), "the connection is closed after a 400"
    with HttpConn(sl.ports["FE1"]) as c:
        assert c.request("GET", "/after").status == 200
    assert be.lines() == ["GET /after HTTP/1.1"], f"the backend saw {be.lines()}, expected only the valid request"


def test_oversized_headers_400(sluice, backends, fe):
    """Request heads larger than tune.bufsize - tune.maxrewrite (16384 - 1024 = 15360) get a 400; a 14000-byte
    head passes intact."""
    be = backends.http()
    sl = sluice(one_backend(be.addr, global_extra="    tune.bufsize 16384\n    tune.maxrewrite 1024"),
                fds={"FE1": fe()})
    port = sl.ports["FE1"]

    base = build_request("GET", "/big", [("X-Big", "")])

    def head_of(total: int) -> bytes:
        return build_request("GET", "/big", [("X-Big", "b" * (total - len(base)))])

    ok = head_of(14000)
    assert len(ok) == 14000
    with HttpConn(port) as c:
        c.send(ok)
        r = c.read_response()
    assert r.status == 200, r
    assert be.seen()[0].header("x-big") == "b" * (14000 - len(base)), "the big header arrived altered"
    r, c = one_request(port, head_of(16000))
    with c:
        assert_error(r, 400, must_close_header=True)
        assert c.closed_by_peer(2), "the connection is closed after a 400"
    assert be.lines() == ["GET /big HTTP/1.1"], "the oversized request never reaches the backend"


def test_chunk_size_overflow_400(sluice, backends, fe):
    """A chunk size that overflows 64 bits gets a 400. It is a body error, found once the head may already be on
    its way to the server, so the backend may have seen the head; it must never see a complete request."""
    be = backends.http()
    sl = sluice(one_backend(be.addr), fds={"FE1": fe()})
    raw = (b"POST /overflow HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"ffffffffffffffffff1\r\nhello\r\n0\r\n\r\n")
    r, c = one_request(sl.ports["FE1"], raw)
    with c:
        assert_error(r, 400, must_close_header=True)
        assert c.closed_by_peer(2), "the connection is closed after a 400"
    with HttpConn(sl.ports["FE1"]) as c:
        assert c.request("GET", "/after").status == 200
    complete = [q.line() for q in be.seen() if q.error is None]
    assert complete == ["GET /after HTTP/1.1"], f"the backend saw {be.lines()}"
