"""HTTP mode, the basics: GET/HEAD/POST through the proxy with curl, body integrity both ways, many requests on one
keep-alive connection, chunked in and out, pipelining, bodiless responses, 100-continue, until-close bodies."""

import http.client
import json
import os

from conftest import sha
from httpbackend import payload
from httpclient import HttpConn, build_request, chunk_encode, curl, http_config


def cfg_one(be, frontend: str = "", backend: str = "") -> str:
    return http_config(frontend, {"be": f"server s1 {be.addr}\n{backend}"})


def test_curl_get_head_post(sluice, backends, fe, tmp_path):
    be = backends.http()
    sl = sluice(cfg_one(be), fds={"FE1": fe()})
    base = f"http://127.0.0.1:{sl.ports['FE1']}"

    (get,) = curl(f"{base}/hello?x=1", tmp=tmp_path)
    assert get.code == 200, get
    seen = json.loads(get.body)
    assert seen["method"] == "GET" and seen["target"] == "/hello?x=1", f"backend saw {seen}"

    (head,) = curl(f"{base}/hello", "-I", tmp=tmp_path)
    assert head.code == 200 and head.size_download == 0, f"HEAD: {head}"
    assert head.header("content-length") not in (None, "0"), \
        f"HEAD response keeps the Content-Length a GET would have: {head.headers}"

    (post,) = curl(f"{base}/form", "--data-binary", "a=1&b=2", tmp=tmp_path)
    assert post.code == 200, post
    seen = json.loads(post.body)
    assert seen["method"] == "POST" and seen["body_len"] == 7 and seen["body_sha256"] == sha(b"a=1&b=2"), seen
    assert [r.line() for r in be.seen()] == ["GET /hello?x=1 HTTP/1.1", "HEAD /hello HTTP/1.1",
                                             "POST /form HTTP/1.1"]


def test_curl_post_1mb_integrity(sluice, backends, fe, tmp_path):
    """A 1 MB random body: the sha256 the backend computed equals the one sent, and so does the echoed body."""
    be = backends.http()
    sl = sluice(cfg_one(be), fds={"FE1": fe()})
    body = os.urandom(1024 * 1024)
    f = tmp_path / "upload.bin"
    f.write_bytes(body)
    (r,) = curl(f"http://127.0.0.1:{sl.ports['FE1']}/upload?body=echo", "--data-binary", f"@{f}",
                "-H", "Content-Type: application/octet-stream", tmp=tmp_path)
    assert r.code == 200, r
    assert r.header("x-req-body-sha256") == sha(body), "the backend received a different body"
    (req,) = be.seen()
    assert req.body_len == len(body) and req.body_sha == sha(body)
    assert len(r.body) == len(body) and sha(r.body) == sha(body), "the echoed body differs from the one sent"


def test_200_requests_on_one_keepalive_connection_curl(sluice, backends, fe, tmp_path):
    be = backends.http()
    sl = sluice(cfg_one(be), fds={"FE1": fe()})
    urls = " ".join(f"http://127.0.0.1:{sl.ports['FE1']}/ka/{i}" for i in range(200))
    results = curl(urls, tmp=tmp_path, timeout=30)
    assert len(results) == 200
    assert [r.code for r in results] == [200] * 200
    connects = sum(r.num_connects for r in results)
    assert connects == 1, f"curl opened {connects} connections for 200 requests, expected 1 (keep-alive)"
    seen = be.seen()
    assert [r.line() for r in seen] == [f"GET /ka/{i} HTTP/1.1" for i in range(200)]
    assert all(r.error is None for r in seen)


def test_200_requests_on_one_keepalive_connection_http_client(sluice, backends, fe):
    be = backends.http()
    sl = sluice(cfg_one(be), fds={"FE1": fe()})
    conn = http.client.HTTPConnection("127.0.0.1", sl.ports["FE1"], timeout=5)
    conn.connect()
    local = conn.sock.getsockname()
    for i in range(200):
        body = b"n=%d" % i if i % 2 else None
        conn.request("POST" if body else "GET", f"/hc/{i}", body=body)
        resp = conn.getresponse()
        data = resp.read()
        assert resp.status == 200, f"request {i}: {resp.status} {data[:200]!r}"
        assert conn.sock is not None and conn.sock.getsockname() == local, f"request {i} used a new connection"
    conn.close()
    seen = be.seen()
    assert len(seen) == 200 and all(r.error is None for r in seen)
    assert [r.path for r in seen] == [f"/hc/{i}" for i in range(200)]
    assert all(r.body_sha == sha(b"n=%d" % i) for i, r in enumerate(seen) if i % 2)


def test_chunked_upload_and_download(sluice, backends, fe, tmp_path):
    be = backends.http()
    sl = sluice(cfg_one(be), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    # Upload: curl sends chunked when told so; the backend must receive the same bytes.
    body = os.urandom(700_000)
    f = tmp_path / "up.bin"
    f.write_bytes(body)
    (r,) = curl(f"http://127.0.0.1:{port}/up", "--data-binary", f"@{f}", "-H", "Transfer-Encoding: chunked",
                tmp=tmp_path)
    assert r.code == 200, r
    (req,) = be.seen()
    assert req.body_len == len(body) and req.body_sha == sha(body), "chunked upload arrived altered"
    # Upload, raw: odd chunk sizes (1 byte, 3 bytes ...) and a trailer.
    with HttpConn(port) as c:
        raw = os.urandom(100_000)
        c.send(build_request("POST", "/up2", [("Transfer-Encoding", "chunked")]) +
               chunk_encode(raw, trailers=[("X-Check", "1")]))
        resp = c.read_response()
        assert resp.status == 200, resp
        assert resp.json()["body_sha256"] == sha(raw) and resp.json()["body_len"] == len(raw)
        # Download chunked on the same connection: the body decodes to what the backend sent.
        resp = c.request("GET", "/down?size=1500000&chunked=1")
        assert resp.status == 200, resp
        assert resp.chunked, f"a chunked response of unknown length stays chunked: {resp.headers}"
        assert sha(resp.body) == sha(payload(1_500_000)) == resp.header("x-body-sha256")
    # curl decodes it too.
    (r,) = curl(f"http://127.0.0.1:{port}/down?size=300000&chunked=1", tmp=tmp_path)
    assert r.code == 200 and sha(r.body) == sha(payload(300_000))


def test_slow_backend_reader_and_writer(sluice, backends, fe):
    """Bodies stream through bounded buffers: a backend reading the upload slowly and dripping the download."""
    be = backends.http()
    sl = sluice(cfg_one(be), fds={"FE1": fe()})
    body = os.urandom(200_000)
    with HttpConn(sl.ports["FE1"], timeout=15) as c:
        r = c.request("POST", "/slow?slowread=2", body=body)
        assert r.status == 200 and r.json()["body_sha256"] == sha(body), r
        r = c.request("GET", "/drip?size=60000&drip=5")
        assert r.status == 200 and sha(r.body) == sha(payload(60_000)), r


def test_pipelined_requests_answered_in_order(sluice, backends, fe):
    be = backends.http()
    sl = sluice(cfg_one(be), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        # The first one is the slowest to answer: order must still be kept.
        c.send(build_request("GET", "/p1?delay=200") + build_request("POST", "/p2", body=b"two") +
               build_request("GET", "/p3?size=5000"))
        r1, r2, r3 = c.read_response(), c.read_response(), c.read_response()
    assert r1.json()["target"] == "/p1?delay=200", r1
    assert r2.json()["target"] == "/p2" and r2.json()["body_sha256"] == sha(b"two"), r2
    assert r3.status == 200 and r3.body == payload(5000), r3
    assert [r.path for r in be.seen()] == ["/p1", "/p2", "/p3"]


def test_head_204_304_have_no_body(sluice, backends, fe):
    """Each bodiless response is followed on the same connection by a normal one: a proxy that waited for (or
    forwarded) a body would desynchronise the next response."""
    be = backends.http()
    sl = sluice(cfg_one(be), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        for method, target, status in [("HEAD", "/h?size=1000", 200), ("GET", "/n?status=204", 204),
                                       ("GET", "/m?status=304", 304), ("HEAD", "/h2?size=77&chunked=1", 200)]:
            r = c.request(method, target)
            assert r.status == status, f"{method} {target}: {r!r}"
            assert r.body == b"", f"{method} {target}: no body expected"
            nxt = c.request("GET", "/after")
            assert nxt.status == 200 and nxt.json()["target"] == "/after", \
                f"the response after {method} {target} is not the next one: {nxt!r}"
        assert not c.buf, f"stray bytes after the responses: {bytes(c.buf[:200])!r}"


def test_expect_100_continue(sluice, backends, fe):
    """The client sends the headers with `Expect: 100-continue`, waits for `100 Continue`, then the body."""
    be = backends.http()
    sl = sluice(cfg_one(be), fds={"FE1": fe()})
    body = os.urandom(50_000)
    with HttpConn(sl.ports["FE1"]) as c:
        c.send(build_request("POST", "/expect", [("Expect", "100-continue"), ("Content-Length", str(len(body)))]))
        interim = c.read_response(timeout=3)
        assert interim.status == 100, f"expected an interim 100 Continue before the body, got {interim!r}"
        c.send(body)
        final = c.read_response()
        while 100 <= final.status < 200:  # a client must accept more than one interim response
            final = c.read_response()
    assert final.status == 200, final
    assert final.json()["body_sha256"] == sha(body), "body altered"


def test_until_close_response(sluice, backends, fe):
    """The backend answers with neither Content-Length nor chunked and closes: the client gets every byte,
    delimited either by the close or by chunking the proxy added."""
    be = backends.http()
    sl = sluice(cfg_one(be), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"], timeout=10) as c:
        r = c.request("GET", "/uc?size=400000&untilclose=1")
    assert r.status == 200, r
    assert len(r.body) == 400000 and sha(r.body) == sha(payload(400000)), \
        f"until-close body altered: {len(r.body)} bytes"
    # An HTTP/1.0 client too (no chunking possible there: the proxy must close).
    with HttpConn(sl.ports["FE1"], timeout=10) as c:
        c.send(build_request("GET", "/uc10?size=100000&untilclose=1", version="1.0"))
        r = c.read_response()
        assert sha(r.body) == sha(payload(100000)), "until-close body to an HTTP/1.0 client altered"
        assert c.closed_by_peer(3), "the connection to an HTTP/1.0 client must close after an until-close body"
