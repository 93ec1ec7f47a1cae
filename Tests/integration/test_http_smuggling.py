"""Request smuggling: the backend must never see a request the client was not answered for.

Each vector is sent on one connection followed by a normal request (`GET /normal-1`); the client reads every
response until the proxy closes the connection (or goes quiet), then sends `GET /normal-2` on a new connection.
The backend's request log must be exactly the requests the client got answers for, in order: the smuggled
`/smuggled` request never reaches it, and no request reaches it with both Content-Length and Transfer-Encoding
(the backend records that as an error). After a request with both headers the proxy answers it and closes: the
bytes after its chunked body are never parsed as a request: RFC 9112 section 6.3 ("the server MUST close the
connection after responding to such a request"), and what HAProxy 2.6 does."""

import pytest

from conftest import Deadline, sha
from httpclient import HttpConn, build_request, http_config

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


def post(path: str, headers: list[bytes], body: bytes) -> bytes:
    return b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + b"".join(h + b"\r\n" for h in headers) + \
        b"\r\n" + body


CLTE_BODY = b"0\r\n\r\n" + SMUGGLED
TECL_BODY = b"%x\r\n" % len(SMUGGLED) + SMUGGLED + b"\r\n0\r\n\r\n"

VECTORS = [
    # id, raw vector, expected status of the first response, check of what the backend saw for it (or None)
    ("CL.TE", post("/v", [b"Content-Length: %d" % len(CLTE_BODY), b"Transfer-Encoding: chunked"], CLTE_BODY),
     200, dict(chunked=True, body_len=0)),
    ("TE.CL", post("/v", [b"Transfer-Encoding: chunked", b"Content-Length: 4"], TECL_BODY),
     200, dict(chunked=True, body_len=len(SMUGGLED))),
    ("TE.TE-second-te-header", post("/v", [b"Transfer-Encoding: chunked", b"Transfer-Encoding: x",
                                           b"Content-Length: %d" % len(CLTE_BODY)], CLTE_BODY), 400, None),
    ("TE.TE-xchunked", post("/v", [b"Transfer-Encoding: xchunked", b"Content-Length: %d" % len(CLTE_BODY)],
                            CLTE_BODY), 400, None),
    ("TE.TE-space-before-colon", post("/v", [b"Transfer-Encoding : chunked",
                                             b"Content-Length: %d" % len(CLTE_BODY)], CLTE_BODY), 400, None),
    ("TE.TE-vertical-tab", post("/v", [b"Transfer-Encoding: \x0bchunked", b"Content-Length: %d" % len(CLTE_BODY)],
                                CLTE_BODY), 400, None),
    ("TE.TE-chunked-then-identity", post("/v", [b"Transfer-Encoding: chunked, identity",
                                                b"Content-Length: %d" % len(CLTE_BODY)], CLTE_BODY), 400, None),
    ("TE.TE-upper-case", post("/v", [b"Transfer-Encoding: CHUNKED", b"Content-Length: %d" % len(CLTE_BODY)],
                              CLTE_BODY), 200, dict(chunked=True, body_len=0)),
    ("CL.CL", post("/v", [b"Content-Length: %d" % len(SMUGGLED), b"Content-Length: 0"], SMUGGLED), 400, None),
]


def read_all_responses(c: HttpConn, timeout: float = 3.0) -> list:
    """Responses until the proxy closes the connection or nothing more comes within the deadline."""
    out = []
    dl = Deadline(timeout)
    while not dl.expired():
        if not c.buf and c.closed_by_peer(min(0.5, dl.left())) and not c.buf:
            break
        if not c.buf:
            continue
        out.append(c.read_response(timeout=max(0.1, dl.left())))
    return out


@pytest.mark.parametrize("vid,raw,first_status,check", VECTORS, ids=[v[0] for v in VECTORS])
def test_smuggling_vector(sluice, backends, fe, vid, raw, first_status, check):
    be = backends.http()
    sl = sluice(http_config("", {"be": f"server s1 {be.addr}"}), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        c.send(raw + build_request("GET", "/normal-1"))
        answered = read_all_responses(c)
    assert answered, f"{vid}: no response at all"
    assert answered[0].status == first_status, f"{vid}: first response {answered[0]!r}"
    with HttpConn(sl.ports["FE1"]) as c:
        last = c.request("GET", "/normal-2")
        assert last.status == 200, last
        answered.append(last)

    seen = be.seen()
    errors = [r.line() for r in seen if r.error]
    assert not errors, f"{vid}: the backend received something it could not take as one request: {errors}"
    assert not [r for r in seen if r.path == "/smuggled"], f"{vid}: the smuggled request reached the backend: " \
                                                           f"{be.lines()}"
    forwarded = [r.json()["target"] for r in answered if r.status == 200]
    assert [r.target for r in seen] == forwarded, \
        f"{vid}: the backend saw {be.lines()}, the client was answered for {forwarded} " \
        f"(statuses {[r.status for r in answered]})"
    if check is not None:
        first = seen[0]
        assert first.path == "/v" and not first.has("content-length"), f"{vid}: forwarded as {first.headers}"
        assert first.chunked == check["chunked"] and first.body_len == check["body_len"], \
            f"{vid}: the backend read a {'chunked' if first.chunked else 'non-chunked'} body of {first.body_len} " \
            f"bytes, expected {check}"


def cl_te_request(sluice, backends, fe):
    be = backends.http()
    sl = sluice(http_config("", {"be": f"server s1 {be.addr}"}), fds={"FE1": fe()})
    raw = post("/both", [b"Content-Length: 3", b"Transfer-Encoding: chunked"],
               b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    c = HttpConn(sl.ports["FE1"])
    c.send(raw)
    return be, c, c.read_response()


def test_cl_and_te_together(sluice, backends, fe):
    """Both headers: the request is accepted, Content-Length dropped, the body forwarded chunked; the response
    says `Connection: close` and the client connection closes (nothing after the body is read as a request)."""
    be, c, r = cl_te_request(sluice, backends, fe)
    with c:
        assert r.status == 200, r
        assert r.closes(), f"the response to a request with both CL and TE says Connection: close: {r!r}"
        assert c.closed_by_peer(2), "the client connection closes after the response"
    (req,) = be.seen()
    assert not req.has("content-length"), f"Content-Length must be dropped: {req.headers}"
    assert req.header("transfer-encoding").lower() == "chunked" and req.chunked, req.headers
    assert req.body_len == 11 and req.body_sha == sha(b"hello world"), "body altered"


@pytest.mark.sluice_only("PRODUCT.md closes the server connection after a CL+TE request; HAProxy 2.6 may keep "
                         "it idle for reuse (it only closes the client side)")
def test_cl_and_te_server_connection_closed(sluice, backends, fe):
    """PRODUCT.md: Content-Length with Transfer-Encoding -> close the server side after the response. HAProxy 2.6
    closes the client connection, but the server connection can go to the idle pool (observed: the first server
    connection after start stays open)."""
    be, c, r = cl_te_request(sluice, backends, fe)
    with c:
        assert r.status == 200, r
        be.wait(lambda: be.conns[0].closed, 3, "the proxy closed the server connection after the response")
