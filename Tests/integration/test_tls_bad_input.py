"""Bad input on a TLS listener and in TLS configuration (issue 4 item 6).

Runtime: a plaintext HTTP client on a TLS port, a truncated handshake (FIN or silence), garbage that looks like a
TLS record, a stream cut in the middle of a record, a client that goes away mid-upload or mid-download: that
connection closes, the event is logged, and another connection (one kept open across the incident, and a new one)
is unaffected.

Configuration: `-c` on a missing certificate, a key that does not match its certificate (mismatch.pem), an invalid
or missing CA file, on a bind line and on a server line: exit 1 with `[ALERT] parsing [file:line] : ...`."""

import os
import re
import socket
import ssl
import time

import pytest

from conftest import HAPROXY_MODE, Deadline, base_config, rst_close, wait_until
from httpclient import HttpConn, build_request
from test_cli import alert_re
from tlshelpers import cert, client_ctx, handshake_failures, https_config, tls_connect


def config(be, defaults_extra: str = "") -> str:
    return https_config(backends={"be": f"server s1 {be.addr}"}, defaults_extra=defaults_extra)


class Bystander:
    """A keep-alive HTTPS connection opened before an incident; `check()` makes one more request on it."""

    def __init__(self, port: int):
        self.sock = tls_connect(port)
        self.conn = HttpConn(None, sock=self.sock)
        self.n = 0
        self.check()

    def check(self):
        r = self.conn.request("GET", f"/bystander/{self.n}")
        assert r.status == 200, f"the bystander connection was affected: {r!r}"
        self.n += 1

    def close(self):
        self.sock.close()


def closed_by_peer(s: socket.socket, timeout: float) -> bytes:
    """Wait for EOF or reset; returns what arrived before it. Fails if the connection stays open."""
    dl = Deadline(timeout)
    got = b""
    while True:
        s.settimeout(max(0.01, dl.left()))
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            return got
        except socket.timeout:
            raise AssertionError(f"connection still open after {timeout}s (got {got[:100]!r})")
        if not data:
            return got
        got += data


def client_hello(server_hostname: str = "localhost") -> bytes:
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = client_ctx().wrap_bio(inc, out, server_hostname=server_hostname)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def expect_failures_logged(sl, n: int):
    wait_until(lambda: len(handshake_failures(sl.stderr())) >= n, 5,
               f"{n} failed handshake(s) logged (stderr: {sl.stderr()[-1500:]!r})")


# --------------------------------------------------------------------------------------------------------------
# Runtime
# --------------------------------------------------------------------------------------------------------------

def test_plaintext_http_client_on_a_tls_port(sluice, backends, fe):
    be = backends.http()
    sl = sluice(config(be), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    by = Bystander(port)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        got = closed_by_peer(s, 5)
        assert not got.startswith(b"HTTP/"), f"no HTTP answer on a TLS port: {got!r}"
    expect_failures_logged(sl, 1)
    by.check()
    with tls_connect(port) as s:
        assert HttpConn(None, sock=s).request("GET", "/after").status == 200
    by.close()
    assert be.lines() == ["GET /bystander/0 HTTP/1.1", "GET /bystander/1 HTTP/1.1", "GET /after HTTP/1.1"]


@pytest.mark.parametrize("cut", [1, 5, 40])
def test_truncated_handshake_then_fin(sluice, backends, fe, cut):
    be = backends.http()
    sl = sluice(config(be), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    by = Bystander(port)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(client_hello()[:cut])
        s.shutdown(socket.SHUT_WR)
        closed_by_peer(s, 5)
    expect_failures_logged(sl, 1)
    by.check()
    by.close()


def test_truncated_handshake_then_silence_times_out(sluice, backends, fe):
    """Half a ClientHello and nothing more: `timeout client` ends it; the event is logged."""
    be = backends.http()
    sl = sluice(config(be, defaults_extra="    timeout client 1s"), fds={"FE1": fe()})
    with socket.create_connection(("127.0.0.1", sl.ports["FE1"]), timeout=5) as s:
        s.sendall(client_hello()[:50])
        t0 = time.monotonic()
        closed_by_peer(s, 5)
        assert time.monotonic() - t0 >= 0.5, "closed before the timeout"
    expect_failures_logged(sl, 1)
    assert "<BADREQ>" not in sl.stderr(), "no HTTP answer (or 408 log line) for a connection without a handshake"


def test_silent_client_on_a_tls_port_times_out(sluice, backends, fe):
    """Connect and send nothing: `timeout client` ends the handshake; other connections are unaffected."""
    be = backends.http()
    sl = sluice(config(be, defaults_extra="    timeout client 1s"), fds={"FE1": fe()})
    silent = [socket.create_connection(("127.0.0.1", sl.ports["FE1"]), timeout=5) for _ in range(5)]
    try:
        with tls_connect(sl.ports["FE1"]) as s:
            assert HttpConn(None, sock=s).request("GET", "/meanwhile").status == 200
        for s in silent:
            closed_by_peer(s, 5)
    finally:
        for s in silent:
            s.close()
    expect_failures_logged(sl, 5)


def test_garbage_tls_records(sluice, backends, fe):
    be = backends.http()
    sl = sluice(config(be), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    by = Bystander(port)
    for junk in (b"\x16\x03\x01\x00\x05hello", b"\x16\x03\x01\xff\xff" + os.urandom(2000), os.urandom(4096),
                 b"\x15\x03\x03\x00\x02\x02\x28"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            try:
                s.sendall(junk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            closed_by_peer(s, 5)
    expect_failures_logged(sl, 4)
    by.check()
    by.close()
    assert be.accepted == 1, "only the bystander reached the backend"


def test_stream_cut_inside_a_record_after_the_handshake(sluice, backends, fe):
    """A request whose TLS record is cut in the middle, then FIN: the connection closes; nothing reaches the
    backend for it."""
    be = backends.http()
    sl = sluice(config(be), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    by = Bystander(port)
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = client_ctx().wrap_bio(inc, out, server_hostname="localhost")
    with raw:
        dl = Deadline(5)
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                raw.sendall(out.read())
                raw.settimeout(max(0.01, dl.left()))
                inc.write(raw.recv(65536))
        raw.sendall(out.read())
        obj.write(build_request("GET", "/cut"))
        record = out.read()
        raw.sendall(record[:len(record) // 2])
        raw.shutdown(socket.SHUT_WR)
        closed_by_peer(raw, 5)
    by.check()
    by.close()
    assert "/cut" not in " ".join(be.lines())


@pytest.mark.parametrize("how", ["fin", "rst"])
def test_client_goes_away_mid_upload(sluice, backends, fe, how):
    be = backends.http()
    sl = sluice(config(be), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    by = Bystander(port)
    s = tls_connect(port)
    s.sendall(build_request("POST", "/up?slowread=5", [("Content-Length", str(4 << 20))]))
    s.sendall(os.urandom(256 << 10))
    be.wait(lambda: be.accepted == 2 and be.conns[-1].received > 0, 5, "the upload reached the backend")
    if how == "rst":
        rst_close(s)
    else:
        s.close()
    # The backend connection of the broken upload is closed (it sees EOF inside the body).
    be.wait(lambda: be.conns[-1].closed, 5, "the backend side of the broken upload closed")
    sl.wait_output('"POST /up?slowread=5 HTTP/1.1"', timeout=5)
    line = next(ln for ln in sl.stderr().splitlines() if "POST /up" in ln)
    assert re.search(r" C[DH]-", line), f"the log line should blame the client: {line}"
    by.check()
    by.close()


def test_client_goes_away_mid_download(sluice, backends, fe):
    be = backends.http()
    sl = sluice(config(be), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    by = Bystander(port)
    s = tls_connect(port)
    s.sendall(build_request("GET", f"/down?size={50 << 20}"))
    assert s.recv(1024).startswith(b"HTTP/1.1 200")
    rst_close(s)
    be.wait(lambda: be.conns[-1].closed, 10, "the backend side of the abandoned download closed")
    sl.wait_output('"GET /down?size=', timeout=5)
    line = next(ln for ln in sl.stderr().splitlines() if "GET /down" in ln)
    assert re.search(r" C[DH]-", line), f"the log line should blame the client: {line}"
    by.check()
    by.close()


# --------------------------------------------------------------------------------------------------------------
# Configuration (-c)
# --------------------------------------------------------------------------------------------------------------

def check_config(sluice, tmp_path, bind_opts: str = "", server_opts: str = ""):
    cfg = base_config() + f"""
frontend fe
    mode http
    bind 127.0.0.1:8443 {bind_opts}
    default_backend be

backend be
    mode http
    server s1 127.0.0.1:9443 {server_opts}
"""
    path = tmp_path / "tls.cfg"
    path.write_text(cfg)
    lines = cfg.splitlines()
    bind_line = next(i for i, ln in enumerate(lines, 1) if "bind 127.0.0.1:8443" in ln)
    server_line = next(i for i, ln in enumerate(lines, 1) if "server s1" in ln)
    return sluice.check(path), bind_line, server_line


def alert_at(p, line: int, *needles: str) -> str:
    out = p.stdout + p.stderr
    assert p.returncode == 1, f"exit code {p.returncode}, expected 1:\n{out}"
    for m in alert_re(r"[^\]]*tls\.cfg", line).finditer(out):
        if all(n in m.group(0) for n in needles):
            return m.group(0)
    pytest.fail(f"no `[ALERT] parsing [tls.cfg:{line}] : ...` naming {needles}:\n{out}", pytrace=False)


def bad_ca(tmp_path) -> str:
    p = tmp_path / "bad-ca.pem"
    p.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    return str(p)


def test_check_missing_certificate(sluice, tmp_path):
    p, bind, _ = check_config(sluice, tmp_path, "ssl crt /nonexistent/sluice-test.pem")
    alert_at(p, bind, "/nonexistent/sluice-test.pem")


def test_check_key_does_not_match_certificate(sluice, tmp_path):
    p, bind, _ = check_config(sluice, tmp_path, f"ssl crt {cert('mismatch')}")
    alert_at(p, bind, "mismatch.pem")


def test_check_invalid_ca_file_on_bind(sluice, tmp_path):
    ca = bad_ca(tmp_path)
    p, bind, _ = check_config(sluice, tmp_path, f"ssl crt {cert('server')} ca-file {ca} verify required")
    alert_at(p, bind, "bad-ca.pem")


def test_check_missing_ca_file_on_bind(sluice, tmp_path):
    p, bind, _ = check_config(sluice, tmp_path, f"ssl crt {cert('server')} ca-file /nonexistent/ca.pem verify required")
    alert_at(p, bind, "/nonexistent/ca.pem")


@pytest.mark.sluice_only("HAProxy 2.6 reports a bad server ca-file as `[file:line]` without `parsing`")
def test_check_invalid_ca_file_on_server(sluice, tmp_path):
    ca = bad_ca(tmp_path)
    p, _, server = check_config(sluice, tmp_path, server_opts=f"ssl verify required ca-file {ca}")
    alert_at(p, server, "bad-ca.pem")


def test_check_unreadable_certificate(sluice, tmp_path):
    """A certificate file that is not PEM at all."""
    junk = tmp_path / "junk.pem"
    junk.write_bytes(os.urandom(512))
    p, bind, _ = check_config(sluice, tmp_path, f"ssl crt {junk}")
    alert_at(p, bind, "junk.pem")


def test_check_reports_every_tls_error(sluice, tmp_path):
    """One run reports a missing certificate and, on the next bind line, a mismatched key."""
    cfg = base_config() + f"""
frontend fe
    mode http
    bind 127.0.0.1:8443 ssl crt /nonexistent/sluice-test.pem
    bind 127.0.0.1:8444 ssl crt {cert('mismatch')}
    default_backend be

backend be
    mode http
    server s1 127.0.0.1:9443
"""
    path = tmp_path / "tls.cfg"
    path.write_text(cfg)
    lines = cfg.splitlines()
    first = next(i for i, ln in enumerate(lines, 1) if "8443" in ln)
    p = sluice.check(path)
    alert_at(p, first, "/nonexistent/sluice-test.pem")
    alert_at(p, first + 1, "mismatch.pem")


def test_failed_handshake_in_tcp_mode_never_reaches_a_server(sluice, backends, fe):
    be = backends.echo()
    cfg = base_config() + f"""
frontend fe
    mode tcp
    bind "fd@${{FE1}}" ssl crt {cert('server')}
    log stderr format raw local0 info
    option tcplog
    default_backend be

backend be
    server s1 {be.addr}
"""
    sl = sluice(cfg, fds={"FE1": fe()})
    with socket.create_connection(("127.0.0.1", sl.ports["FE1"]), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        closed_by_peer(s, 5)
    expect_failures_logged(sl, 1)
    with tls_connect(sl.ports["FE1"]) as s:  # a good client afterwards: its connection is the only one
        s.sendall(b"ping\n")
        assert s.recv(5) == b"ping\n"
    assert be.accepted == 1, f"the server saw {be.accepted} connections, expected only the good client's"
