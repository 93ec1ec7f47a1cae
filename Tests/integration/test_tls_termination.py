"""TLS termination (`bind ... ssl crt ...`): curl over HTTPS (GET, a 10 MB POST), certificate selection by SNI
(exact, wildcard, default), ALPN, protocol versions (TLS 1.0/1.1 refused by default), the ssl_fc* fetches, and
client certificates (`ca-file ... verify required|optional`)."""

import os
import ssl

import pytest

from conftest import HAPROXY_MODE, base_config, sha, wait_until
from httpclient import HttpConn, build_request, curl
from tlshelpers import (cert, client_ctx, handshake_failures, handshake_log_seen, https_config, peer_subject_cn, s_client, tls_bind,
                        tls_connect)


def curl_https(port: int, path: str, *args: str, tmp, timeout: float = 20.0):
    """curl https://localhost:PORT/path trusting the test CA (SNI localhost, resolved to 127.0.0.1)."""
    return curl(f"https://localhost:{port}{path}", "--cacert", cert("ca"), "--resolve", f"localhost:{port}:127.0.0.1",
                *args, tmp=tmp, timeout=timeout)


def one_be(be) -> dict[str, str]:
    return {"be": f"server s1 {be.addr}"}


# --------------------------------------------------------------------------------------------------------------
# curl: GET and a 10 MB POST
# --------------------------------------------------------------------------------------------------------------

def test_curl_get_over_tls(sluice, backends, fe, tmp_path):
    be = backends.http()
    sl = sluice(https_config(backends=one_be(be)), fds={"FE1": fe()})
    (r,) = curl_https(sl.ports["FE1"], "/hello?x=1", "-v", tmp=tmp_path)
    assert r.code == 200, r
    assert r.header("x-backend") == "http"
    assert "SSL connection using TLSv1.3" in r.stderr, f"curl's verbose output:\n{r.stderr}"
    (req,) = be.seen()
    assert req.line() == "GET /hello?x=1 HTTP/1.1"


def test_curl_keepalive_requests_over_one_tls_connection(sluice, backends, fe, tmp_path):
    be = backends.http()
    sl = sluice(https_config(backends=one_be(be)), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    urls = " ".join(f"https://localhost:{port}/ka/{i}" for i in range(50))
    results = curl(urls, "--cacert", cert("ca"), "--resolve", f"localhost:{port}:127.0.0.1", tmp=tmp_path)
    assert [r.code for r in results] == [200] * 50
    assert sum(r.num_connects for r in results) == 1, "curl should reuse its one TLS connection"
    assert be.lines() == [f"GET /ka/{i} HTTP/1.1" for i in range(50)]


def test_curl_post_10mb_over_tls(sluice, backends, fe, tmp_path):
    """A 10 MB random body: the sha256 the backend computed equals the one sent, and so does the echo."""
    be = backends.http()
    sl = sluice(https_config(backends=one_be(be)), fds={"FE1": fe()})
    body = os.urandom(10 * 1024 * 1024)
    f = tmp_path / "upload.bin"
    f.write_bytes(body)
    (r,) = curl_https(sl.ports["FE1"], "/upload?body=echo", "--data-binary", f"@{f}",
                      "-H", "Content-Type: application/octet-stream", tmp=tmp_path, timeout=40)
    assert r.code == 200, r
    (req,) = be.seen()
    assert req.body_len == len(body) and req.body_sha == sha(body), "the backend received a different body"
    assert r.header("x-req-body-sha256") == sha(body)
    assert len(r.body) == len(body) and sha(r.body) == sha(body), "the echoed body differs from the one sent"


# --------------------------------------------------------------------------------------------------------------
# SNI selects the certificate: exact name, then wildcard, then the first crt
# --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("servername, subject", [
    ("a.example", "CN = a.example"),              # exact
    ("A.EXAMPLE", "CN = a.example"),              # DNS names compare case-insensitively
    ("b.wild.example", "CN = *.wild.example"),    # wildcard
    ("a.wild.example", "CN = a.example"),         # an exact name wins over a wildcard that also matches
    ("x.y.wild.example", "CN = localhost"),       # a wildcard covers one label only: default
    ("unknown.example", "CN = localhost"),        # no match: the first crt
    (None, "CN = localhost"),                     # no SNI at all: the first crt
])
def test_sni_selects_certificate(sluice, backends, fe, servername, subject):
    be = backends.http()
    sl = sluice(https_config(backends=one_be(be), crts=("server", "a", "wild")), fds={"FE1": fe()})
    r = s_client(sl.ports["FE1"], servername=servername)
    assert r.handshake_done, f"handshake with SNI {servername!r} failed: {r}"
    assert r.subject == subject, f"SNI {servername!r}: got {r.subject!r}, expected {subject!r}\n{r}"
    # The chain is sent too: the client verifies up to the test root.
    assert r.verify_ok, f"chain did not verify with SNI {servername!r}: {r}"


def test_sni_reaches_the_fetch_and_the_backend(sluice, backends, fe):
    """The certificate chosen for the name and `ssl_fc_sni` agree, on the same connection, for each name."""
    be = backends.http()
    sl = sluice(https_config("http-request set-header X-SNI %[ssl_fc_sni]", one_be(be), crts=("server", "a", "wild")),
                fds={"FE1": fe()})
    for name, cn in [("a.example", "a.example"), ("b.wild.example", "*.wild.example"), ("localhost", "localhost")]:
        with tls_connect(sl.ports["FE1"], server_hostname=name) as s:
            assert peer_subject_cn(s) == cn
            c = HttpConn(None, sock=s)
            r = c.request("GET", f"/sni/{name}")
            assert r.status == 200, r
    assert [r.header("x-sni") for r in be.seen()] == ["a.example", "b.wild.example", "localhost"]


# --------------------------------------------------------------------------------------------------------------
# ALPN
# --------------------------------------------------------------------------------------------------------------

def test_alpn_negotiated(sluice, backends, fe):
    be = backends.http()
    sl = sluice(https_config("http-request set-header X-ALPN %[ssl_fc_alpn]", one_be(be),
                             bind_options="alpn http/1.1"), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    r = s_client(port, "-alpn", "h2,http/1.1", servername="localhost")
    assert r.handshake_done and r.alpn == "http/1.1", f"expected ALPN http/1.1: {r}"
    r = s_client(port, "-alpn", "spdy/3", servername="localhost")
    assert r.handshake_done and r.no_alpn, f"no common protocol: the handshake goes on without ALPN: {r}"
    r = s_client(port, servername="localhost")
    assert r.handshake_done and r.no_alpn, f"a client that offers nothing gets nothing: {r}"
    with tls_connect(port, ctx=client_ctx(alpn=["http/1.1"])) as s:
        assert s.selected_alpn_protocol() == "http/1.1"
        r = HttpConn(None, sock=s).request("GET", "/alpn")
        assert r.status == 200, r
    assert be.seen()[-1].header("x-alpn") == "http/1.1"


def test_alpn_server_preference_in_tcp_mode(sluice, backends, fe):
    """In TCP mode any protocol may be offered (the bytes are passed through): the server's order wins."""
    be = backends.echo()
    cfg = base_config() + f"""
frontend fe
    mode tcp
    {tls_bind(options="alpn h2,http/1.1")}
    default_backend be

backend be
    server s1 {be.addr}
"""
    sl = sluice(cfg, fds={"FE1": fe()})
    r = s_client(sl.ports["FE1"], "-alpn", "http/1.1,h2", servername="localhost")
    assert r.handshake_done and r.alpn == "h2", f"the server's preference (h2 first) should win: {r}"
    r = s_client(sl.ports["FE1"], "-alpn", "http/1.1", servername="localhost")
    assert r.handshake_done and r.alpn == "http/1.1", r


# --------------------------------------------------------------------------------------------------------------
# Protocol versions
# --------------------------------------------------------------------------------------------------------------

# OpenSSL 3 will not even offer TLS 1.0/1.1 at its default security level: the client lowers it.
OLD_CLIENT = ("-cipher", "DEFAULT@SECLEVEL=0")


def test_tls10_and_tls11_refused_by_default(sluice, backends, fe):
    be = backends.http()
    sl = sluice(https_config(backends=one_be(be)), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    for flag in ("-tls1", "-tls1_1"):
        r = s_client(port, flag, *OLD_CLIENT, servername="localhost")
        assert r.rc != 0 and not r.handshake_done, f"{flag} must be refused by default: {r}"
    for flag, proto in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
        r = s_client(port, flag, servername="localhost")
        assert r.handshake_done and r.protocol == proto, f"{flag} must work: {r}"
    wait_until(lambda: handshake_log_seen(sl.stderr()), 5, "the refused handshakes logged")
    assert be.accepted == 0


def test_old_versions_only_when_configured(sluice, backends, fe):
    """Control for the test above: the same client does get TLS 1.1 when the bind allows it, so the refusal is
    the server's default, not the client's inability."""
    be = backends.http()
    sl = sluice(https_config(backends=one_be(be), bind_options="ssl-min-ver TLSv1.0 ciphers DEFAULT@SECLEVEL=0"),
                fds={"FE1": fe()})
    r = s_client(sl.ports["FE1"], "-tls1_1", *OLD_CLIENT, servername="localhost")
    assert r.handshake_done and r.protocol == "TLSv1.1", f"TLS 1.1 allowed by the bind: {r}"


@pytest.mark.parametrize("options, ok, refused", [
    ("ssl-min-ver TLSv1.3", "-tls1_3", "-tls1_2"),
    ("ssl-max-ver TLSv1.2", "-tls1_2", "-tls1_3"),
])
def test_min_and_max_version(sluice, backends, fe, options, ok, refused):
    be = backends.http()
    sl = sluice(https_config(backends=one_be(be), bind_options=options), fds={"FE1": fe()})
    r = s_client(sl.ports["FE1"], ok, servername="localhost")
    assert r.handshake_done, f"{ok} with {options}: {r}"
    r = s_client(sl.ports["FE1"], refused, servername="localhost")
    assert not r.handshake_done, f"{refused} must fail with {options}: {r}"


# --------------------------------------------------------------------------------------------------------------
# Fetches
# --------------------------------------------------------------------------------------------------------------

def test_ssl_fetches_in_header_rules(sluice, backends, fe):
    """`set-header X-Forwarded-Proto https if { ssl_fc }` and the session fetches, with TLS 1.2 and 1.3."""
    be = backends.http()
    rules = """
        http-request set-header X-Forwarded-Proto https if { ssl_fc }
        http-request set-header X-Proto %[ssl_fc_protocol]
        http-request set-header X-SNI %[ssl_fc_sni]
        http-request set-header X-Client-Cert %[ssl_c_used]
    """
    sl = sluice(https_config(rules, one_be(be)), fds={"FE1": fe()})
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = client_ctx()
        ctx.minimum_version = ctx.maximum_version = version
        with tls_connect(sl.ports["FE1"], ctx=ctx) as s:
            r = HttpConn(None, sock=s).request("GET", "/f")
            assert r.status == 200, r
    seen = be.seen()
    assert [r.header("x-forwarded-proto") for r in seen] == ["https", "https"]
    assert [r.header("x-proto") for r in seen] == ["TLSv1.2", "TLSv1.3"]
    assert [r.header("x-sni") for r in seen] == ["localhost", "localhost"]
    assert [r.header("x-client-cert") for r in seen] == ["0", "0"]


# --------------------------------------------------------------------------------------------------------------
# Client certificates
# --------------------------------------------------------------------------------------------------------------

CLIENT_RULES = """
    http-request set-header X-Client-Used %[ssl_c_used]
    http-request set-header X-Client-Verify %[ssl_c_verify]
"""


def attempt_get(port: int, ctx: ssl.SSLContext, timeout: float = 5.0):
    """A GET over TLS; returns the Response, or the exception that ended the attempt (handshake failure, alert
    after a TLS 1.3 handshake, reset, EOF)."""
    try:
        with tls_connect(port, ctx=ctx, timeout=timeout) as s:
            c = HttpConn(None, sock=s, timeout=timeout)
            c.send(build_request("GET", "/cert"))
            return c.read_response()
    except (ssl.SSLError, OSError, AssertionError) as e:
        return e


@pytest.mark.parametrize("version", ["TLSv1_2", "TLSv1_3"])
def test_client_certificate_required(sluice, backends, fe, version):
    be = backends.http()
    sl = sluice(https_config(CLIENT_RULES, one_be(be), bind_options=f"ca-file {cert('ca')} verify required"),
                fds={"FE1": fe()})
    port = sl.ports["FE1"]

    def ctx(certfile=None):
        c = client_ctx(certfile=certfile)
        c.minimum_version = c.maximum_version = getattr(ssl.TLSVersion, version)
        return c

    r = attempt_get(port, ctx())
    assert isinstance(r, Exception), f"no client certificate must fail the handshake, got {r!r}"
    r = attempt_get(port, ctx("foreign"))
    assert isinstance(r, Exception), f"a certificate from another CA must fail the handshake, got {r!r}"
    assert be.seen() == [], "nothing may reach the backend without a valid client certificate"
    r = attempt_get(port, ctx("client"))
    assert not isinstance(r, Exception), f"a good client certificate must pass: {r!r}"
    assert r.status == 200, r
    (req,) = be.seen()
    assert req.header("x-client-used") == "1" and req.header("x-client-verify") == "0", req.headers
    wait_until(lambda: len(handshake_failures(sl.stderr())) >= 2, 5, "both refused handshakes logged")


def test_client_certificate_required_curl(sluice, backends, fe, tmp_path):
    be = backends.http()
    sl = sluice(https_config(CLIENT_RULES, one_be(be), bind_options=f"ca-file {cert('ca')} verify required"),
                fds={"FE1": fe()})
    port = sl.ports["FE1"]
    (r,) = curl_https(port, "/cert", "--cert", cert("client"), tmp=tmp_path)
    assert r.code == 200 and json_header(be, "x-client-verify") == "0", r
    with pytest.raises(AssertionError, match="curl failed"):
        curl_https(port, "/nocert", tmp=tmp_path)
    with pytest.raises(AssertionError, match="curl failed"):
        curl_https(port, "/foreign", "--cert", cert("foreign"), tmp=tmp_path)
    assert be.lines() == ["GET /cert HTTP/1.1"]


def json_header(be, name: str) -> str | None:
    return be.seen()[-1].header(name)


def test_client_certificate_optional(sluice, backends, fe):
    """`verify optional`: no certificate is fine (ssl_c_used 0); a good one is verified (ssl_c_verify 0)."""
    be = backends.http()
    sl = sluice(https_config(CLIENT_RULES, one_be(be), bind_options=f"ca-file {cert('ca')} verify optional"),
                fds={"FE1": fe()})
    r1 = attempt_get(sl.ports["FE1"], client_ctx())
    r2 = attempt_get(sl.ports["FE1"], client_ctx(certfile="client"))
    assert not isinstance(r1, Exception) and r1.status == 200, r1
    assert not isinstance(r2, Exception) and r2.status == 200, r2
    a, b = be.seen()
    assert a.header("x-client-used") == "0", a.headers
    assert b.header("x-client-used") == "1" and b.header("x-client-verify") == "0", b.headers


# --------------------------------------------------------------------------------------------------------------
# Access log: HAProxy's %ft marks an SSL bind with '~'
# --------------------------------------------------------------------------------------------------------------

def test_httplog_and_tcplog_mark_the_ssl_frontend(sluice, backends, fe):
    """httplog and tcplog print the frontend as `%ft`: its name followed by `~` when the bind terminates TLS."""
    be_http, be_tcp = backends.http(), backends.echo()
    cfg = https_config(backends=one_be(be_http)) + f"""
frontend fe_tcp
    mode tcp
    {tls_bind(fd="FE2")}
    log stderr format raw local0 info
    option tcplog
    default_backend be_tcp

backend be_tcp
    server s1 {be_tcp.addr}
"""
    sl = sluice(cfg, fds={"FE1": fe(), "FE2": fe()})
    with tls_connect(sl.ports["FE1"]) as s:
        assert HttpConn(None, sock=s).request("GET", "/log").status == 200
    with tls_connect(sl.ports["FE2"]) as s:
        s.sendall(b"ping\n")
        assert s.recv(5) == b"ping\n"
    sl.wait_output('fe~ be/s1 ', timeout=5)
    sl.wait_output('fe_tcp~ be_tcp/s1 ', timeout=5)
    line = next(ln for ln in sl.stderr().splitlines() if "fe~ be/s1" in ln)
    assert '200' in line and '"GET /log HTTP/1.1"' in line, line


def test_alpn_h2_on_an_http_bind_is_never_a_dead_end(sluice, backends, fe, tmp_path):
    """The most common HAProxy bind line, `alpn h2,http/1.1`: either the configuration is refused with a line
    that names h2, or every client gets its answer (over h2 in HAProxy, over http/1.1 in a proxy without h2)."""
    be = backends.http()
    cfg = https_config(backends=one_be(be), bind_options="alpn h2,http/1.1")
    path = tmp_path / "alpn.cfg"
    path.write_text(cfg.replace('"fd@${FE1}"', "127.0.0.1:1"))
    p = sluice.check(path)
    if p.returncode != 0:
        assert "h2" in p.stdout + p.stderr, f"the refusal should name h2:\n{p.stdout}{p.stderr}"
        return
    sl = sluice(cfg, fds={"FE1": fe()})
    (r,) = curl_https(sl.ports["FE1"], "/alpn-h2", tmp=tmp_path)
    assert r.code == 200, r


def test_stats_count_tls_handshakes(sluice, backends, fe):
    """The frontend's ssl_sess counts completed client handshakes and ssl_failed_handshake the failed ones (a
    plaintext client on the TLS port), as HAProxy's ssl stats module."""
    import socket

    from statsclient import num, parse_csv

    be = backends.http()
    sl = sluice(https_config("stats enable\nstats uri /stats", {"be": f"server s1 {be.addr}"}), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as plain:
        plain.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            while plain.recv(4096):
                pass
        except ConnectionResetError:
            pass  # sluice may answer the garbage handshake with a reset
    wait_until(lambda: handshake_log_seen(sl.stderr()), 5, "the failed handshake is logged")
    with tls_connect(port) as s:
        s.sendall(b"GET /stats;csv HTTP/1.0\r\nHost: localhost\r\n\r\n")
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():  # HAProxy's stats page answers chunked even to HTTP/1.0
        text, rest = b"", body
        while (size := int(rest.split(b"\r\n", 1)[0], 16)) > 0:
            rest = rest.split(b"\r\n", 1)[1]
            text, rest = text + rest[:size], rest[size + 2:]
        body = text
    rows = parse_csv(body.decode())[1]
    fe_row = rows[("fe", "FRONTEND")]
    assert (num(fe_row, "ssl_sess"), num(fe_row, "ssl_reused_sess"), num(fe_row, "ssl_failed_handshake")) == (1, 0, 1), \
        {k: fe_row[k] for k in ("ssl_sess", "ssl_reused_sess", "ssl_failed_handshake")}
