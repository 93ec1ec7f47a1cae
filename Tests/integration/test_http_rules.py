"""HTTP rules: each `http-request` / `http-response` header action, `option forwardfor [except]`, redirect, deny,
return, and `errorfile`."""

import hashlib

from conftest import Deadline
from httpclient import HttpConn, http_config


def one_backend(be, frontend: str, backend: str = "") -> str:
    return http_config(frontend, {"be": f"server s1 {be.addr}\n{backend}"})


def test_http_request_header_rules(sluice, backends, fe):
    be = backends.http()
    sl = sluice(one_backend(be, r"""
        http-request set-header X-Set set-by-proxy
        http-request add-header X-Add added-1
        http-request add-header X-Add added-2
        http-request del-header X-Delete-Me
        http-request replace-header User-Agent ^curl/(.*)$ replaced/\1
        http-request set-path /rewritten if { path_beg /old }
    """), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        r = c.request("GET", "/old/page?q=1&r=2", [
            ("User-Agent", "curl/7.88.1"),
            ("X-Set", "from-client-1"), ("X-Set", "from-client-2"),
            ("X-Add", "from-client"),
            ("X-Delete-Me", "a"), ("x-delete-me", "b"),
            ("X-Keep", "kept"),
        ])
        assert r.status == 200, r
        r2 = c.request("GET", "/other", [("User-Agent", "wget/1.0")])
        assert r2.status == 200, r2
    req, req2 = be.seen()
    assert req.header_all("x-set") == ["set-by-proxy"], f"set-header replaces every occurrence: {req.headers}"
    assert req.header_all("x-add") == ["from-client", "added-1", "added-2"], f"add-header appends: {req.headers}"
    assert not req.has("x-delete-me"), f"del-header removes every occurrence, any case: {req.headers}"
    assert req.header_all("user-agent") == ["replaced/7.88.1"], f"replace-header with a back-reference: {req.headers}"
    assert req.header("x-keep") == "kept"
    assert req.target == "/rewritten?q=1&r=2", f"set-path replaces the path and keeps the query: {req.target}"
    assert req2.target == "/other" and req2.header("user-agent") == "wget/1.0", \
        "rules with a condition, or a regex that does not match, leave the request alone"


def test_set_path_and_set_query_keep_an_absolute_form_authority(sluice, backends, fe):
    """On an absolute-form request, set-path and set-query change the path and query only: the scheme and the
    authority stay (its default port normalized away), as in HAProxy."""
    be = backends.http()
    sl = sluice(one_backend(be, r"""
        http-request set-path /new if { path_beg /old }
        http-request set-query q=2 if { path_beg /query }
    """), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        for target in ("http://a.example:80/old/x?q=1", "http://a.example/query", "http://a.example/keep?q=1"):
            assert c.request("GET", target, [("Host", "a.example")]).status == 200
    assert [r.target for r in be.seen()] == [
        "http://a.example/new?q=1", "http://a.example/query?q=2", "http://a.example/keep?q=1"]


def test_later_rules_and_use_backend_see_earlier_edits(sluice, backends, fe):
    """Each edit applies at once, as in HAProxy: a later rule's condition and value, use_backend, and the
    backend's own rules see the request as the earlier rules left it. A body already in the buffer behind the
    rewritten head reaches the server intact."""
    be, api = backends.http("be"), backends.http("api")
    sl = sluice(http_config(r"""
        http-request set-path /api%[path] if { hdr(host) -i api.example }
        http-request set-header X-Tier gold
        http-request deny deny_status 403 if { req.hdr(x-tier) gold } { path_beg /api/forbidden }
        http-request add-header X-Seen %[req.hdr(x-tier)]
        http-request replace-header X-Seen (.*) seen-\1
        http-request del-header X-Drop
        use_backend api if { path_beg /api/ }
    """, {"be": f"server s1 {be.addr}",
          "api": f"server s2 {api.addr}\nhttp-request set-header X-Path-At-Backend %[path]"}), fds={"FE1": fe()})
    body = bytes(range(256)) * 400
    with HttpConn(sl.ports["FE1"]) as c:
        r = c.request("POST", "/v1/items?x=1", [("Host", "api.example"), ("X-Drop", "1")], body=body)
        assert r.status == 200, r
        assert c.request("GET", "/forbidden", [("Host", "api.example")]).status == 403
        assert c.request("GET", "/v1", [("Host", "other.example")]).status == 200
    (to_api,), (to_be,) = api.seen(), be.seen()
    assert to_api.target == "/api/v1/items?x=1", to_api.target
    assert to_api.header_all("x-tier") == ["gold"] and to_api.header_all("x-seen") == ["seen-gold"], to_api.headers
    assert to_api.header("x-path-at-backend") == "/api/v1/items", to_api.headers
    assert not to_api.has("x-drop")
    assert to_api.body_len == len(body) and to_api.body_sha == hashlib.sha256(body).hexdigest()
    assert to_be.target == "/v1" and to_be.header_all("x-seen") == ["seen-gold"], to_be.headers


def test_http_response_header_rules(sluice, backends, fe):
    be = backends.http()
    sl = sluice(one_backend(be, """
        http-response set-header X-Resp-Set set-by-proxy
        http-response add-header X-Resp-Add added
        http-response del-header X-Backend-Secret
    """), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        r = c.request("GET", "/r?hdr=X-Resp-Set:from-backend&hdr=X-Resp-Add:from-backend"
                             "&hdr=X-Backend-Secret:s3cr3t&hdr=x-backend-secret:again")
    assert r.status == 200, r
    assert r.header_all("x-resp-set") == ["set-by-proxy"], r.headers
    assert r.header_all("x-resp-add") == ["from-backend", "added"], r.headers
    assert not r.has("x-backend-secret"), r.headers
    assert r.header("x-backend") == "http", "other backend headers pass untouched"
    assert r.json()["target"].startswith("/r?"), "the body is the backend's"


def test_frontend_response_rules_see_the_backend_response_edits(sluice, backends, fe):
    """http-response rules run backend first, then frontend; each edit applies at once, so the frontend's
    conditions and values see what the backend's rules set (HAProxy's behaviour)."""
    be = backends.http()
    sl = sluice(http_config(r"""
        http-response deny if { res.hdr(x-stage) backend } { status 201 }
        http-response add-header X-Copy %[res.hdr(x-stage)]
        http-response replace-header X-Copy (.*) copy-\1
    """, {"be": f"server s1 {be.addr}\nhttp-response set-header X-Stage backend"}), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        r = c.request("GET", "/r")
        assert r.status == 200, r
        assert r.header_all("x-stage") == ["backend"] and r.header_all("x-copy") == ["copy-backend"], r.headers
        assert r.json()["target"] == "/r", "the body is the backend's"
    with HttpConn(sl.ports["FE1"]) as c:
        assert c.request("GET", "/r?status=201").status == 502


def test_option_forwardfor(sluice, backends, fe):
    be = backends.http()
    sl = sluice(one_backend(be, "option forwardfor"), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        c.request("GET", "/a")
        c.request("GET", "/b", [("X-Forwarded-For", "203.0.113.7")])
    a, b = be.seen()
    assert a.header_all("x-forwarded-for") == ["127.0.0.1"], a.headers
    assert b.header("x-forwarded-for") == "203.0.113.7, 127.0.0.1", \
        f"the client's own X-Forwarded-For is kept and the proxy's value appended: {b.headers}"


def test_option_forwardfor_header_name(sluice, backends, fe):
    be = backends.http()
    sl = sluice(one_backend(be, "option forwardfor header X-Client-IP"), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        c.request("GET", "/a")
    (a,) = be.seen()
    assert a.header_all("x-client-ip") == ["127.0.0.1"] and not a.has("x-forwarded-for"), a.headers


def test_option_forwardfor_except(sluice, backends, fe):
    be = backends.http()
    sl = sluice(one_backend(be, "option forwardfor except 127.0.0.0/8"), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        c.request("GET", "/a")
    (a,) = be.seen()
    assert not a.has("x-forwarded-for"), f"a client in the except network gets no X-Forwarded-For: {a.headers}"


def test_redirects(sluice, backends, fe):
    be = backends.http()
    sl = sluice(one_backend(be, """
        http-request redirect location /new-place code 301 if { path /old-place }
        http-request redirect location /found if { path /default-code }
        http-request redirect prefix https://other.example code 302 if { path_beg /pfx }
        http-request redirect scheme https code 308 if { path_beg /sch }
        http-request redirect location /see code 303 if { path /c303 }
        http-request redirect location /tmp code 307 if { path /c307 }
        http-request redirect prefix / append-slash if { path_beg /same }
    """), fds={"FE1": fe()})
    cases = [
        ("/old-place", "HTTP/1.1 301 Moved Permanently", "/new-place"),
        ("/default-code", "HTTP/1.1 302 Found", "/found"),
        ("/pfx/a/b?x=1", "HTTP/1.1 302 Found", "https://other.example/pfx/a/b?x=1"),
        ("/sch/page?y=2", "HTTP/1.1 308 Permanent Redirect", "https://www.example/sch/page?y=2"),
        ("/c303", "HTTP/1.1 303 See Other", "/see"),
        ("/c307", "HTTP/1.1 307 Temporary Redirect", "/tmp"),
        # `prefix /` inserts nothing (HAProxy's special case): here it only appends the slash.
        ("/same/dir", "HTTP/1.1 302 Found", "/same/dir/"),
    ]
    with HttpConn(sl.ports["FE1"]) as c:
        for path, status_line, location in cases:
            r = c.request("GET", path, [("Host", "www.example")])
            assert r.status_line == status_line, f"{path}: {r!r}"
            assert r.header("location") == location, f"{path}: {r!r}"
            assert r.header("content-length") == "0" and r.body == b"", f"{path}: {r!r}"
        r = c.request("GET", "/plain")  # the connection stays usable
        assert r.status == 200
    assert [q.path for q in be.seen()] == ["/plain"], "redirected requests never reach the backend"


def test_deny_and_deny_status(sluice, backends, fe):
    be = backends.http()
    sl = sluice(one_backend(be, """
        http-request deny if { path_beg /admin }
        http-request deny deny_status 429 if { path_beg /limited }
    """), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        r = c.request("GET", "/admin/panel")
        assert r.status_line == "HTTP/1.1 403 Forbidden", r
        assert r.header("content-type") == "text/html" and b"<h1>403 Forbidden</h1>" in r.body, r
        r = c.request("GET", "/limited")
        assert r.status_line == "HTTP/1.1 429 Too Many Requests", r
        assert b"<h1>429 Too Many Requests</h1>" in r.body, r
        r = c.request("POST", "/admin", body=b"x" * 1000)  # a denied request with a body
        assert r.status == 403, r
    with HttpConn(sl.ports["FE1"]) as c:
        assert c.request("GET", "/fine").status == 200
    assert [q.path for q in be.seen()] == ["/fine"], "denied requests never reach the backend"


def test_return(sluice, backends, fe):
    be = backends.http()
    sl = sluice(one_backend(be, """
        http-request return status 200 content-type text/plain string "ok" if { path /health }
    """), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        r = c.request("GET", "/health")
        assert r.status_line == "HTTP/1.1 200 OK", r
        assert r.header("content-type") == "text/plain" and r.header("content-length") == "2", r
        assert r.body == b"ok", r
        r = c.request("GET", "/healthz")
        assert r.status == 200 and r.header("x-backend") == "http", r
    assert [q.path for q in be.seen()] == ["/healthz"]


ERRORFILE = (b"HTTP/1.1 503 Service Unavailable\r\n"
             b"content-type: text/plain\r\n"
             b"x-custom: Down for maintenance\r\n"
             b"cache-control: no-cache\r\n"
             b"content-length: 12\r\n"
             b"connection: close\r\n"
             b"\r\n"
             b"maintenance\n")


def test_errorfile_503_served_verbatim(sluice, backends, fe, tmp_path):
    """`errorfile 503 <file>`: the file is the whole response, sent as is. (HAProxy re-emits header names in
    lower case, which is why the file uses lower-case names: then both must send these exact bytes.)"""
    f = tmp_path / "503.http"
    f.write_bytes(ERRORFILE)
    be = backends.http()
    cfg = http_config("", {"be": f"errorfile 503 {f}\nserver s1 {be.addr} disabled"})
    sl = sluice(cfg, fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        got = c.read_to_eof(Deadline(5), "the errorfile response and a close")
    assert got == ERRORFILE, f"expected the errorfile's bytes exactly, got {got!r}"
    assert be.accepted == 0
