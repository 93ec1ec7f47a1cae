"""Response framing on the way to the client, against a raw backend that sends exact bytes: a response with both
Content-Length and Transfer-Encoding reaches the client chunked without the length (RFC 9112 §6.3, as HAProxy 2.6
does) and its server connection is not reused; 1xx and 204 lose a Content-Length they must not carry (RFC 9110
§8.6); an HTTP/1.0 status line on a kept client connection gets `connection: keep-alive` so that the client may
keep it (RFC 9112 §9.3)."""

import asyncio

import pytest

from httpclient import HttpConn, http_config

CANNED = {
    b"/clte": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    b"/204cl": b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
    b"/http10": b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"/plain": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
}


def canned_handler():
    """Answers each request head on a connection with CANNED[path]; an HTTP/1.0 answer closes the connection."""

    async def h(backend, conn, reader, writer):
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            answer = CANNED[head.split(b" ")[1]]
            writer.write(answer)
            await writer.drain()
            if answer.startswith(b"HTTP/1.0"):
                return

    return h


@pytest.fixture
def proxy(sluice, backends, fe):
    be = backends.start(canned_handler(), "canned")
    sl = sluice(http_config("", {"be": f"server s1 {be.addr}"}), fds={"FE1": fe()})
    return be, sl.ports["FE1"]


def test_response_with_length_and_chunked_is_forwarded_chunked(proxy):
    be, port = proxy
    with HttpConn(port) as c:
        r = c.request("GET", "/clte")
        assert r.status == 200 and r.body == b"ok", r
        assert not r.has("content-length") and r.header("transfer-encoding").lower() == "chunked", r.headers
        assert c.request("GET", "/plain").body == b"ok", "the client connection goes on"
    assert be.accepted == 2, "the server connection that sent both headers is not reused"


def test_204_loses_its_content_length(proxy):
    _, port = proxy
    with HttpConn(port) as c:
        r = c.request("GET", "/204cl")
        assert r.status == 204 and not r.has("content-length"), r.headers
        assert c.request("GET", "/plain").body == b"ok"


def test_http10_status_line_keeps_the_client_connection(proxy):
    _, port = proxy
    with HttpConn(port) as c:
        r = c.request("GET", "/http10")
        assert r.version == "1.0" and r.body == b"ok", r
        assert r.header("connection").lower() == "keep-alive", r.headers
        assert c.request("GET", "/plain").body == b"ok", "the client connection is still usable"
