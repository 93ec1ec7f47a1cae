"""TLS to servers (`server ... ssl verify required ca-file <f> sni <expr>` and `verify none`): a backend with a
certificate the CA file trusts answers; one it does not trust (another CA, expired, or a name that does not match
the SNI) gets the client a 503 and a log line naming the failure; SNI reaches the server; sessions to a server are
resumed."""

import asyncio

import pytest

from conftest import HAPROXY_MODE, base_config, wait_until
from httpclient import HttpConn, curl, http_config
from tlshelpers import cert, server_ctx


def server_line(be, options: str) -> dict[str, str]:
    return {"be": f"retries 0\nserver s1 {be.addr} ssl {options}"}


def logged_config(be, options: str) -> str:
    return http_config("log stderr format raw local0 info\noption httplog", server_line(be, options))


def test_tls_backend_trusted_ca(sluice, backends, fe, tmp_path):
    sni = []
    be = backends.http("tlsbe", ssl=server_ctx("server", sni_log=sni))
    sl = sluice(logged_config(be, f"verify required ca-file {cert('ca')} sni str(localhost)"), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    results = curl(" ".join(f"http://127.0.0.1:{port}/tls/{i}" for i in range(3)), tmp=tmp_path)
    assert [r.code for r in results] == [200, 200, 200], results
    assert results[0].header("x-backend") == "tlsbe"
    assert be.lines() == [f"GET /tls/{i} HTTP/1.1" for i in range(3)]
    assert sni and set(sni) == {"localhost"}, f"SNI the server saw: {sni}"


def test_tls_backend_large_bodies_both_ways(sluice, backends, fe):
    """Integrity of a 4 MB upload and a 4 MB download through a TLS server connection."""
    import os

    from conftest import sha
    be = backends.http("tlsbe", ssl=server_ctx("server"))
    sl = sluice(logged_config(be, f"verify required ca-file {cert('ca')} sni str(localhost)"), fds={"FE1": fe()})
    body = os.urandom(4 << 20)
    with HttpConn(sl.ports["FE1"], timeout=20) as c:
        r = c.request("POST", "/up?body=echo", body=body)
        assert r.status == 200 and sha(r.body) == sha(body), f"{r.status} {len(r.body)}"
        r = c.request("GET", f"/down?size={4 << 20}")
        assert r.status == 200 and sha(r.body) == r.header("x-body-sha256")


@pytest.mark.parametrize("crt, options, why", [
    ("server", f"verify required ca-file {cert('other-ca')} sni str(localhost)", "certificate verify failed"),
    ("foreign", f"verify required ca-file {cert('ca')} sni str(localhost)", "certificate verify failed"),
    ("expired", f"verify required ca-file {cert('ca')} sni str(localhost)", "certificate verify failed"),
    ("server", f"verify required ca-file {cert('ca')} sni str(a.example)", "certificate verify failed"),
])
def test_tls_backend_untrusted_gives_503(sluice, backends, fe, tmp_path, crt, options, why):
    be = backends.http("tlsbe", ssl=server_ctx(crt))
    sl = sluice(logged_config(be, options), fds={"FE1": fe()})
    (r,) = curl(f"http://127.0.0.1:{sl.ports['FE1']}/untrusted", tmp=tmp_path)
    assert r.code == 503, r
    assert be.seen() == [], "no request may reach a server that failed verification"
    # The access log says the connection to the server failed (HAProxy and sluice: SC, 503).
    sl.wait_output(" 503 ", timeout=5)
    line = next(ln for ln in sl.stderr().splitlines() if " 503 " in ln)
    assert "be/s1" in line and " SC" in line, f"access log line: {line}"


@pytest.mark.sluice_only("HAProxy 2.6 logs only SC/503 for a failed server handshake; sluice names the reason")
@pytest.mark.parametrize("crt, sni, reason", [
    ("foreign", "localhost", "unable to get local issuer certificate"),
    ("expired", "localhost", "certificate has expired"),
    ("server", "a.example", "hostname mismatch"),
])
def test_tls_backend_failure_is_logged_with_reason(sluice, backends, fe, tmp_path, crt, sni, reason):
    be = backends.http("tlsbe", ssl=server_ctx(crt))
    sl = sluice(logged_config(be, f"verify required ca-file {cert('ca')} sni str({sni})"), fds={"FE1": fe()})
    (r,) = curl(f"http://127.0.0.1:{sl.ports['FE1']}/untrusted", tmp=tmp_path)
    assert r.code == 503, r
    text = sl.wait_output("TLS handshake with server be/s1 failed", timeout=5)
    line = next(ln for ln in text.splitlines() if "TLS handshake with server be/s1 failed" in ln)
    assert "certificate verify failed" in line and reason in line, line


def test_tls_backend_verify_none_accepts_any_certificate(sluice, backends, fe, tmp_path):
    be = backends.http("tlsbe", ssl=server_ctx("foreign"))
    sl = sluice(logged_config(be, "verify none"), fds={"FE1": fe()})
    (r,) = curl(f"http://127.0.0.1:{sl.ports['FE1']}/any", tmp=tmp_path)
    assert r.code == 200 and r.header("x-backend") == "tlsbe", r


def test_tls_backend_plaintext_server_gives_503(sluice, backends, fe, tmp_path):
    """`ssl` towards a server that answers in plain text (a banner, then close): the handshake fails at once, 503."""
    be = backends.tag("plain")
    sl = sluice(logged_config(be, f"verify required ca-file {cert('ca')}"), fds={"FE1": fe()})
    (r,) = curl(f"http://127.0.0.1:{sl.ports['FE1']}/plain", tmp=tmp_path)
    assert r.code == 503, r
    wait_until(lambda: be.accepted == 1, 5, "the server connection was made", cond=be.cond)


def test_tls_backend_silent_server_is_a_connect_timeout(sluice, backends, fe, tmp_path):
    """A server that accepts TCP but never answers the ClientHello: in HAProxy the handshake is part of the
    connection, so `timeout connect` ends it with 503 (sC), not `timeout server` with 504."""
    be = backends.http("silent")  # waits for an HTTP head that a ClientHello never completes
    cfg = http_config("log stderr format raw local0 info\noption httplog", server_line(be, "verify none"),
                      defaults_extra="    timeout connect 1s\n    timeout server 4s")
    sl = sluice(cfg, fds={"FE1": fe()})
    (r,) = curl(f"http://127.0.0.1:{sl.ports['FE1']}/silent", tmp=tmp_path)
    sl.wait_output(" /silent ", timeout=5)
    line = next(ln for ln in sl.stderr().splitlines() if " /silent " in ln)
    assert r.code == 503 and " sC" in line, f"{r.code}: {line}"


def test_tls_sessions_to_a_server_are_resumed(sluice, backends, fe, tmp_path):
    """Each request on a new server connection (`close=1`): after the first full handshake, the next ones resume
    the session."""
    reused: list[bool] = []

    async def handler(backend, conn, reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        ssl_obj = writer.get_extra_info("ssl_object")
        with backend.cond:
            reused.append(bool(ssl_obj.session_reused))
            backend.cond.notify_all()
        body = b"ok\n"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()

    be = backends.start(handler, "tlsbe", ssl=server_ctx("server"))
    cfg = http_config("", {"be": f"server s1 {be.addr} ssl verify required ca-file {cert('ca')} sni str(localhost)"})
    sl = sluice(cfg, fds={"FE1": fe()})
    for i in range(4):
        (r,) = curl(f"http://127.0.0.1:{sl.ports['FE1']}/r{i}", tmp=tmp_path)
        assert r.code == 200, r
        wait_until(lambda: len(reused) == i + 1, 5, f"server connection {i} seen", cond=be.cond)
    assert reused[0] is False and any(reused[1:]), f"session_reused per server connection: {reused}"


def test_tls_backend_sni_per_request_from_host(sluice, backends, fe):
    """`sni req.hdr(host)`: each request's Host is the SNI, and `verify required` checks the server's certificate
    against it. On one keep-alive client connection a request for another name opens another server connection
    (a connection made for a.example is never used for a.wild.example); a later request for a.example takes
    the idle a.example connection back. A name the certificate does not cover fails verification: 503."""
    sni = []
    be = backends.http("tlsbe", ssl=server_ctx("a", sni_log=sni))  # a.pem: a.example and a.wild.example
    sl = sluice(logged_config(be, f"verify required ca-file {cert('ca')} sni req.hdr(host)"), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        for i, host in enumerate(("a.example", "a.wild.example", "a.example")):
            r = c.request("GET", f"/sni/{i}", headers=[("Host", host)])
            assert r.status == 200 and r.header("x-backend") == "tlsbe", f"{host}: {r.status}"
    assert be.lines() == [f"GET /sni/{i} HTTP/1.1" for i in range(3)]
    assert sni == ["a.example", "a.wild.example"], f"SNI per server connection: {sni}"
    assert sorted(be.conn_requests()) == [1, 2], f"requests per server connection: {be.conn_requests()}"
    with HttpConn(sl.ports["FE1"]) as c:
        r = c.request("GET", "/sni/other", headers=[("Host", "localhost")])
        assert r.status == 503, r.status
    assert sni[-1] == "localhost" and len(be.seen()) == 3, "no request may reach a server that failed verification"


def test_tls_backend_sni_sees_a_host_set_by_the_rules(sluice, backends, fe):
    """`sni req.hdr(host)` reads the request as the http-request rules left it (HAProxy evaluates it at connect
    time): a Host rewritten by set-header is the name the server sees."""
    sni = []
    be = backends.http("tlsbe", ssl=server_ctx("a", sni_log=sni))
    cfg = http_config("http-request set-header Host a.wild.example if { path_beg /wild }",
                      server_line(be, f"verify required ca-file {cert('ca')} sni req.hdr(host)"))
    sl = sluice(cfg, fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        assert c.request("GET", "/wild/1", headers=[("Host", "localhost")]).status == 200
    assert sni == ["a.wild.example"], sni
    assert be.seen()[0].header("host") == "a.wild.example"


def test_tls_backend_sni_from_the_client_sni_in_tcp_mode(sluice, backends, fe):
    """TLS re-encryption in mode tcp with `sni ssl_fc_sni`: the server sees the name the client sent to sluice."""
    from tlshelpers import client_ctx, tls_bind, tls_connect

    sni: list = []
    be = backends.tag("tlsbe", then="echo", ssl=server_ctx("a", sni_log=sni))
    cfg = base_config() + f"""
frontend fe
    mode tcp
    {tls_bind(("a", "server"))}
    default_backend be

backend be
    mode tcp
    server s1 {be.addr} ssl verify required ca-file {cert('ca')} sni ssl_fc_sni
"""
    sl = sluice(cfg, fds={"FE1": fe()})
    for name in ("a.wild.example", "a.example"):
        with tls_connect(sl.ports["FE1"], server_hostname=name, ctx=client_ctx()) as s:
            s.settimeout(5)
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(100)
                assert chunk, f"EOF after {buf!r}"
                buf += chunk
            assert buf == b"tlsbe\n", buf
    assert sni == ["a.wild.example", "a.example"], f"SNI the server saw: {sni}"


@pytest.mark.sluice_only("sluice-specific refusals of an SNI expression that could never produce a name")
@pytest.mark.parametrize("mode, expr, needle", [
    ("tcp", "req.hdr(host)", "needs 'mode http'"),
    ("http", "res.hdr(x-name)", "no response exists"),
    ("http", "req.hdr(host)\n    server s2 127.0.0.1:9444 ssl verify none sni ssl_fc_sni", "share one"),
])
def test_check_refuses_sni_without_a_value(sluice, tmp_path, mode, expr, needle):
    cfg = base_config() + f"""
frontend fe
    mode {mode}
    bind 127.0.0.1:8443
    default_backend be

backend be
    mode {mode}
    server s1 127.0.0.1:9443 ssl verify none sni {expr}
"""
    path = tmp_path / "sni.cfg"
    path.write_text(cfg)
    line = max(i for i, ln in enumerate(cfg.splitlines(), 1) if " server s" in ln)  # the error is on the last
    p = sluice.check(path)
    out = p.stdout + p.stderr
    assert p.returncode == 1 and f"sni.cfg:{line}] : 'server be/s" in out and needle in out, out
