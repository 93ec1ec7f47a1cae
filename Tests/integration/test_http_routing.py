"""HTTP routing: `use_backend` by host (`hdr(host) -i`) and by path (`path_beg`), `default_backend`, a decision per
request on one keep-alive connection, what happens when nothing matches and there is no default, and how the
`hdr()` fetches split a header value (as HAProxy does)."""

import pytest

from httpclient import HttpConn, http_config

ROUTES = """
acl host_a hdr(host) -i a.example
acl is_api path_beg /api
use_backend be_a if host_a
use_backend be_api if is_api
"""


def routed_config(a, api, dflt=None) -> str:
    backends = {"be_a": f"server s1 {a.addr}", "be_api": f"server s1 {api.addr}"}
    if dflt is not None:
        backends["be_def"] = f"server s1 {dflt.addr}"
    return http_config(ROUTES, backends, default="be_def" if dflt is not None else None)


def test_use_backend_by_host_and_path_and_default(sluice, backends, fe):
    a, api, dflt = backends.http("a"), backends.http("api"), backends.http("def")
    sl = sluice(routed_config(a, api, dflt), fds={"FE1": fe()})
    cases = [  # (Host, path, expected backend)
        ("a.example", "/x", "a"),
        ("A.Example", "/y", "a"),          # -i: case-insensitive
        ("b.example", "/api/v1", "api"),
        ("a.example", "/api/v2", "a"),      # first matching rule wins
        ("b.example", "/apix", "api"),      # path_beg is a prefix match
        ("b.example", "/x/api", "def"),
        ("a.example.org", "/z", "def"),     # hdr(host) -i is an exact (case-insensitive) match
    ]
    # All on one keep-alive connection: the decision is made per request.
    with HttpConn(sl.ports["FE1"]) as c:
        for host, path, want in cases:
            r = c.request("GET", path, [("Host", host)])
            assert r.status == 200, f"{host}{path}: {r!r}"
            assert r.header("x-backend") == want, f"Host {host} path {path}: served by {r.header('x-backend')}, " \
                                                  f"expected {want}"
    assert [r.path for r in a.seen()] == ["/x", "/y", "/api/v2"]
    assert [r.path for r in api.seen()] == ["/api/v1", "/apix"]
    assert [r.path for r in dflt.seen()] == ["/x/api", "/z"]


@pytest.mark.sluice_only("PRODUCT.md: no backend matched and no default -> 404; HAProxy 2.6 answers 503")
def test_no_match_no_default_is_404(sluice, backends, fe):
    """PRODUCT.md ("Errors on the wire", issue 3 item 4): 404 when no backend matched and there is no default.
    HAProxy 2.6 answers `503 Service Unavailable` ("No server is available") instead."""
    a, api = backends.http("a"), backends.http("api")
    sl = sluice(routed_config(a, api), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        r = c.request("GET", "/nowhere", [("Host", "c.example")])
    assert r.status_line == "HTTP/1.1 404 Not Found", r
    assert r.header("content-type") == "text/html" and b"<h1>404 Not Found</h1>" in r.body, r
    assert a.seen() == [] and api.seen() == []


def test_no_match_no_default_is_refused(sluice, backends, fe):
    """Where sluice and HAProxy agree: an error response with an HTML body (404 in sluice, 503 in HAProxy), no
    backend sees the request, and the next request that does match is served."""
    a, api = backends.http("a"), backends.http("api")
    sl = sluice(routed_config(a, api), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        r = c.request("GET", "/nowhere", [("Host", "c.example")])
    assert r.status in (404, 503), r
    assert r.header("content-type") == "text/html" and r.body.startswith(b"<html>"), r
    assert a.seen() == [] and api.seen() == []
    with HttpConn(sl.ports["FE1"]) as c:
        r = c.request("GET", "/api/ok", [("Host", "c.example")])
    assert r.status == 200 and r.header("x-backend") == "api", r
    assert a.seen() == [] and [q.path for q in api.seen()] == ["/api/ok"]


@pytest.mark.parametrize("target, host, want, line, sent_host", [
    ("http://a.example/abs", "a.example", "a", "GET http://a.example/abs HTTP/1.1", "a.example"),
    # A default port may be left out on one side. One in the URI is dropped, and Host becomes the authority's
    # host (which is also what routes), as HAProxy 2.6 does; one only in Host stays (and routes as sent).
    ("http://A.EXAMPLE:80/abs", "a.example", "a", "GET http://A.EXAMPLE/abs HTTP/1.1", "A.EXAMPLE"),
    ("http://a.example:80/abs?q=1", "a.example:80", "a", "GET http://a.example/abs?q=1 HTTP/1.1", "a.example"),
    ("http://a.example/abs", "a.example:80", "def", "GET http://a.example/abs HTTP/1.1", "a.example:80"),
    ("http://a.example/abs", "b.example", None, None, None),       # Host routes to be_def, the URI names a.example
    ("http://a.example:8080/abs", "a.example", None, None, None),  # another port
])
def test_absolute_form_host_must_match_the_authority(sluice, backends, fe, target, host, want, line, sent_host):
    """An absolute-form request is routed by Host, but the server obeys the URI's authority (RFC 9112 §3.2.2):
    when they name different places it is refused with 400 (as HAProxy does), never forwarded to the backend
    Host chose."""
    a, api, dflt = backends.http("a"), backends.http("api"), backends.http("def")
    sl = sluice(routed_config(a, api, dflt), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        r = c.request("GET", target, [("Host", host)])
    if want is None:
        assert r.status == 400, f"{target} Host {host}: {r!r}"
        assert a.seen() == [] and api.seen() == [] and dflt.seen() == [], "nothing may reach a server"
    else:
        assert r.status == 200 and r.header("x-backend") == want, f"{target} Host {host}: {r!r}"
        (req,) = (a if want == "a" else dflt).seen()
        assert (req.line(), req.header("host")) == (line, sent_host)


HDR_VALUES = [
    # (header lines, the fetches' answer): empty elements count, quoted commas do not split.
    ([("X", "")], "cnt=1 first=<> second=<> last=<>"),
    ([("X", "a,,b")], "cnt=3 first=<a> second=<> last=<b>"),
    ([("X", "a, ,b")], "cnt=3 first=<a> second=<> last=<b>"),
    ([("X", ",a")], "cnt=2 first=<> second=<a> last=<a>"),
    ([("X", "a,")], "cnt=2 first=<a> second=<> last=<>"),
    ([("X", '"a,b", c')], 'cnt=2 first=<"a,b"> second=<c> last=<c>'),
    ([("X", "a"), ("X", "")], "cnt=2 first=<a> second=<> last=<>"),
    ([("Y", "1")], "absent cnt=0"),
]


def test_hdr_fetches_split_values_like_haproxy(sluice, fe):
    """`hdr()`, `hdr_cnt()` and `-m found` see every comma-separated element, empty ones included, and a comma
    inside a quoted string does not split: an empty header is found, `a,,b` has three values. The same answers
    come from HAProxy 2.6 (checked in validation mode)."""
    sl = sluice(http_config(r"""
        http-request return status 200 content-type text/plain lf-string "cnt=%[req.hdr_cnt(x)] first=<%[req.hdr(x,1)]> second=<%[req.hdr(x,2)]> last=<%[req.hdr(x,-1)]>" if { req.hdr(x) -m found }
        http-request return status 200 content-type text/plain lf-string "absent cnt=%[req.hdr_cnt(x)]"
    """, default=None), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        got = [(headers, c.request("GET", "/", headers).body.decode()) for headers, _ in HDR_VALUES]
    assert got == [(h, want) for h, want in HDR_VALUES]


def test_path_of_an_asterisk_form_request_has_no_value(sluice, fe):
    """`OPTIONS *` has no path: `path` gives no value (an ACL on it does not match, `-m found` is false), while
    `url` is `*`, as in HAProxy 2.6."""
    sl = sluice(http_config(r"""
        http-request return status 200 content-type text/plain lf-string "path=<%[path]> url=<%[url]>" if { path -m found }
        http-request return status 299 content-type text/plain lf-string "no path url=<%[url]>"
    """, default=None), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        assert c.request("OPTIONS", "*").body == b"no path url=<*>"
        assert c.request("OPTIONS", "/x").body == b"path=</x> url=</x>"


def test_hdr_val_of_a_non_numeric_value_is_zero(sluice, fe):
    """`hdr_val()` casts as HAProxy does: leading digits count (`12abc` is 12) and a value with none is 0, so
    `hdr_val(x-n) le 3` matches `abc`."""
    sl = sluice(http_config(r"""
        http-request return status 200 content-type text/plain string low if { hdr_val(x-n) le 3 }
        http-request return status 200 content-type text/plain string high if { hdr_val(x-n) gt 10 }
        http-request return status 200 content-type text/plain string other
    """, default=None), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        got = [c.request("GET", "/", [("X-N", v)]).body for v in ("abc", "12abc", "-4", "7")]
    assert got == [b"low", b"high", b"low", b"other"], got
