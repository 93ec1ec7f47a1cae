"""Active and passive health checks: TCP, HTTP (`option httpchk`, `http-check expect`), TLS (`check-ssl`), rise/fall,
backup takeover, `disabled`, `observe layer4`, and health state across a reload. Every wait is for a log line or a
counter with a deadline; the log lines are HAProxy 2.6's."""

from __future__ import annotations

import asyncio
import signal
import socket
import ssl
import threading
import time
from pathlib import Path

import conftest
import pytest
from conftest import Deadline, base_config, wait_until
from httpclient import HttpConn, http_config

CERTS = Path(__file__).resolve().parents[1] / "Fixtures" / "certs"


# ------------------------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------------------------

def status_server(code: int, reason: str = "Whatever"):
    """A backend handler that answers every request with `code` (HTTP/1.0, then close): a health endpoint that
    is deliberately unhealthy. Each check is one accepted connection."""

    async def h(backend, conn, reader, writer):
        try:
            await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return
        writer.write(f"HTTP/1.0 {code} {reason}\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()

    return h


def tls_http_server(context: ssl.SSLContext):
    """HTTPS origin: TLS handshake, then `200 OK` with the backend's name for every request, keep-alive."""

    async def h(backend, conn, reader, writer):
        try:
            await writer.start_tls(context)
        except (ssl.SSLError, ConnectionError, OSError):
            return  # a check that resets right after the handshake is normal
        while True:
            try:
                await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ssl.SSLError, ConnectionError):
                return
            body = backend.name.encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Backend: %s\r\n\r\n%s"
                         % (len(body), body, body))
            await writer.drain()

    return h


def http_backend_on(backends, name: str, port: int):
    """An HttpBackend on a given port (a killed backend coming back where it was)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    original = conftest.listen_socket
    conftest.listen_socket = lambda backlog=1024, host="127.0.0.1": sock
    try:
        return backends.http(name)
    finally:
        conftest.listen_socket = original


def get(port: int, target: str = "/", timeout: float = 5.0):
    with HttpConn(port, timeout=timeout) as c:
        return c.request("GET", target, headers=[("Host", "x"), ("Connection", "close")])


def lines_with(sl, needle: str) -> list[str]:
    return [ln for ln in sl.stderr().splitlines() if needle in ln]


class ClientLoop:
    """Keep-alive GETs in a thread until stopped; records (start time, status or error, X-Backend)."""

    def __init__(self, port: int):
        self.port = port
        self.results: list[tuple[float, str, str | None]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        conn = None
        deadline = Deadline(40)
        while not self.stopping.is_set() and not deadline.expired():
            started = time.monotonic()
            try:
                if conn is None:
                    conn = HttpConn(self.port, timeout=5)
                r = conn.request("GET", "/", headers=[("Host", "x")])
                outcome, who = str(r.status), r.header("x-backend")
                if r.closes():
                    conn.close()
                    conn = None
            except (OSError, AssertionError) as e:
                outcome, who = f"error: {e!r}"[:200], None
                if conn is not None:
                    conn.close()
                conn = None
            with self.lock:
                self.results.append((started, outcome, who))
        if conn is not None:
            conn.close()

    def since(self, t: float) -> list[tuple[float, str, str | None]]:
        with self.lock:
            return [r for r in self.results if r[0] >= t]

    def stop(self):
        self.stopping.set()
        self.thread.join(10)


# ------------------------------------------------------------------------------------------------------------------
# TCP checks: a killed server leaves within one inter, comes back after rise
# ------------------------------------------------------------------------------------------------------------------

def test_killed_server_leaves_within_inter_and_returns_after_rise(sluice, backends, fe):
    s1 = backends.http("s1")
    s2 = backends.http("s2")
    port1 = s1.port
    cfg = http_config(backends={"be": f"""
        balance roundrobin
        retries 1
        option redispatch
        server s1 {s1.addr} check inter 200ms fall 1 rise 2
        server s2 {s2.addr} check inter 200ms fall 1 rise 2
    """})
    sl = sluice(cfg, fds={"FE1": fe()})
    port = sl.ports["FE1"]
    load = ClientLoop(port)
    try:
        s1.wait(lambda: len(s1.requests) >= 5, 5, "client requests on s1 before the kill")
        killed_at = time.monotonic()
        s1.stop()
        sl.wait_output("Server be/s1 is DOWN", timeout=5)
        down_seen = time.monotonic()
        # One inter (200 ms) plus what it takes this test to notice the line.
        assert down_seen - killed_at < 0.2 + 0.5, f"DOWN logged {down_seen - killed_at:.2f}s after the kill"
        line = lines_with(sl, "Server be/s1 is DOWN")[0]
        assert "reason: Layer4 connection problem" in line and 'info: "Connection refused"' in line, line
        assert "1 active and 0 backup servers left." in line, line
        assert line.startswith("[WARNING]"), f"HAProxy tags server state changes [WARNING] on stderr: {line}"
        # From the DOWN line on, every request is answered by s2.
        wait_until(lambda: len(load.since(down_seen)) >= 50, 10, "50 requests after the DOWN line")
        after = load.since(down_seen)
        bad = [r for r in after if r[1] != "200" or r[2] != "s2"]
        assert not bad, f"{len(bad)} of {len(after)} requests after DOWN were not a 200 from s2: {bad[:5]}"

        # Back on the same port: UP after `rise` (2) successful checks, then traffic returns.
        revived_at = time.monotonic()
        s1b = http_backend_on(backends, "s1", port1)
        sl.wait_output("Server be/s1 is UP", timeout=5)
        up_seen = time.monotonic()
        up = lines_with(sl, "Server be/s1 is UP")[0]
        assert "reason: Layer4 check passed" in up and "2 active and 0 backup servers online." in up, up
        # Two checks 200 ms apart (downinter = inter): not before the second one.
        assert up_seen - revived_at >= 0.15, f"UP after {up_seen - revived_at:.2f}s: before two checks?"
        s1b.wait(lambda: s1b.accepted >= 2, 5, "the two checks that brought s1 back")
        s1b.wait(lambda: len(s1b.requests) >= 5, 5, "client requests on s1 again")
    finally:
        load.stop()
    assert sl.alive()


# ------------------------------------------------------------------------------------------------------------------
# HTTP checks
# ------------------------------------------------------------------------------------------------------------------

def test_httpchk_500_marks_down_and_backend_has_no_server(sluice, backends, fe):
    sick = backends.start(status_server(500, "Internal Server Error"), "sick")
    cfg = http_config(backends={"be": f"""
        option httpchk GET /health
        server s1 {sick.addr} check inter 300ms
    """})
    sl = sluice(cfg, fds={"FE1": fe()})
    sl.wait_output("Server be/s1 is DOWN", timeout=5)
    line = lines_with(sl, "Server be/s1 is DOWN")[0]
    assert "reason: Layer7 wrong status, code: 500" in line and 'info: "Internal Server Error"' in line, line
    assert "0 active and 0 backup servers left." in line, line
    sl.wait_output("backend 'be' has no server available!", timeout=2)
    r = get(sl.ports["FE1"])
    assert r.status == 503, r


def test_httpchk_sends_the_configured_request(sluice, backends, fe):
    be = backends.http("s1")
    cfg = http_config(backends={"be": f"""
        option httpchk GET /health
        http-check send hdr Host check.example
        server s1 {be.addr} check inter 200ms
    """})
    sl = sluice(cfg, fds={"FE1": fe()})
    be.wait_requests(2, timeout=5)
    first = be.seen()[0]
    assert (first.method, first.target, first.version) == ("GET", "/health", "1.0"), first.line()
    assert first.header("host") == "check.example", first.headers
    assert not lines_with(sl, "is DOWN"), sl.stderr()


def test_http_check_expect_status_500_keeps_server_up(sluice, backends, fe):
    sick = backends.start(status_server(500), "sick")
    cfg = http_config(backends={"be": f"""
        option httpchk GET /health
        http-check expect status 500
        server s1 {sick.addr} check inter 200ms
    """})
    sl = sluice(cfg, fds={"FE1": fe()})
    # A server starts one failure from DOWN: three checks without a DOWN line mean they all passed.
    sick.wait(lambda: sick.accepted >= 3, 5, "three checks")
    sick.wait(lambda: sick.current == 0, 5, "the third check finished")
    assert not lines_with(sl, "is DOWN"), sl.stderr()


def test_http_check_negated_expect_marks_down(sluice, backends, fe):
    ok = backends.http("s1")
    cfg = http_config(backends={"be": f"""
        option httpchk GET /
        http-check expect ! status 200-299
        server s1 {ok.addr} check inter 200ms
    """})
    sl = sluice(cfg, fds={"FE1": fe()})
    sl.wait_output("Server be/s1 is DOWN", timeout=5)
    assert "reason: Layer7 wrong status, code: 200" in lines_with(sl, "Server be/s1 is DOWN")[0]


def test_log_health_checks_logs_each_change(sluice, backends, fe):
    be = backends.http("s1")
    cfg = http_config(backends={"be": f"""
        option httpchk GET /health
        option log-health-checks
        server s1 {be.addr} check inter 200ms
    """})
    sl = sluice(cfg, fds={"FE1": fe()})
    text = sl.wait_output("Health check for server be/s1 succeeded", timeout=5)
    line = [ln for ln in text.splitlines() if "Health check for server be/s1" in ln][0]
    assert "reason: Layer7 check passed, code: 200, check duration: " in line, line
    assert line.endswith("status: 3/3 UP."), line


# ------------------------------------------------------------------------------------------------------------------
# backup, disabled, observe layer4
# ------------------------------------------------------------------------------------------------------------------

def test_backup_takes_over_when_every_normal_server_is_down(sluice, backends, fe):
    s1 = backends.http("s1")
    b1 = backends.http("b1")
    cfg = http_config(backends={"be": f"""
        server s1 {s1.addr} check inter 200ms fall 1
        server b1 {b1.addr} check inter 200ms backup
    """})
    sl = sluice(cfg, fds={"FE1": fe()})
    port = sl.ports["FE1"]
    for _ in range(3):
        assert get(port).header("x-backend") == "s1"
    assert not b1.requests, "the backup served traffic while a normal server was up"
    s1.stop()
    sl.wait_output("Server be/s1 is DOWN", timeout=5)
    line = lines_with(sl, "Server be/s1 is DOWN")[0]
    assert "0 active and 1 backup servers left. Running on backup." in line, line
    for _ in range(5):
        r = get(port)
        assert (r.status, r.header("x-backend")) == (200, "b1"), r


def test_disabled_server_is_not_checked(sluice, backends, fe):
    off = backends.start(status_server(200), "off")
    on = backends.start(status_server(200), "on")
    cfg = http_config(backends={"be": f"""
        option httpchk GET /
        server s1 {off.addr} check inter 200ms disabled
        server s2 {on.addr} check inter 200ms
    """})
    sluice(cfg, fds={"FE1": fe()})
    on.wait(lambda: on.accepted >= 4, 5, "four checks of the enabled server")
    assert off.accepted == 0, f"the disabled server was checked {off.accepted} times"


def test_observe_layer4_marks_down_on_traffic_errors(sluice, backends, fe):
    """Checks go to a live port (`port`), traffic to a refused one: only passive checks can see the problem."""
    live = backends.http("check-target")
    good = backends.http("s2")
    dead = backends.refused()
    dead_host, dead_port = dead.rsplit(":", 1)
    cfg = http_config(backends={"be": f"""
        balance roundrobin
        retries 1
        option redispatch
        server s1 {dead_host}:{dead_port} check port {live.port} inter 10s observe layer4 error-limit 2 on-error mark-down
        server s2 {good.addr} check inter 10s
    """})
    sl = sluice(cfg, fds={"FE1": fe()})
    port = sl.ports["FE1"]
    dl = Deadline(10)
    while not lines_with(sl, "Server be/s1 is DOWN"):
        assert not dl.expired(), "no DOWN from passive checks"
        r = get(port)
        assert r.status == 200, r  # redispatched to s2
    line = lines_with(sl, "Server be/s1 is DOWN")[0]
    assert "reason: Health analyze" in line, line
    assert 'info: "Detected 2 consecutive errors, last one was: L4 unsuccessful connection"' in line, line
    assert "check duration" not in line, line


# ------------------------------------------------------------------------------------------------------------------
# TLS checks
# ------------------------------------------------------------------------------------------------------------------

def server_tls_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(CERTS / "server.pem"))
    return ctx


def test_check_ssl_http_check_passes_against_tls_backend(sluice, backends, fe):
    tls = backends.start(tls_http_server(server_tls_context()), "tls")
    cfg = http_config(backends={"be": f"""
        option httpchk GET /health
        option log-health-checks
        server s1 {tls.addr} ssl verify required ca-file {CERTS / 'ca.pem'} check inter 200ms
    """})
    sl = sluice(cfg, fds={"FE1": fe()})
    text = sl.wait_output("Health check for server be/s1 succeeded", timeout=5)
    assert "reason: Layer7 check passed, code: 200" in text, text
    r = get(sl.ports["FE1"])
    assert (r.status, r.body) == (200, b"tls"), r
    assert not lines_with(sl, "is DOWN"), sl.stderr()


def test_check_ssl_without_http_is_a_handshake(sluice, backends, fe):
    tls = backends.start(tls_http_server(server_tls_context()), "tls")
    cfg = base_config() + f"""
listen app
    bind "fd@${{FE1}}"
    option log-health-checks
    server s1 127.0.0.1:1 check check-ssl verify none addr 127.0.0.1 port {tls.port} inter 200ms
"""
    sl = sluice(cfg, fds={"FE1": fe()})
    text = sl.wait_output("Health check for server app/s1 succeeded", timeout=5)
    assert "reason: Layer6 check passed" in text, text


def test_check_ssl_against_plaintext_server_marks_down(sluice, backends, fe):
    plain = backends.http("plain")
    cfg = http_config(backends={"be": f"""
        server s1 {plain.addr} check check-ssl verify none inter 200ms
    """})
    sl = sluice(cfg, fds={"FE1": fe()})
    sl.wait_output("Server be/s1 is DOWN", timeout=5)
    line = lines_with(sl, "Server be/s1 is DOWN")[0]
    assert "reason: Layer6 invalid response" in line or "reason: Layer6 timeout" in line, line


def test_check_ssl_with_untrusted_certificate_marks_down(sluice, backends, fe):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(CERTS / "foreign.pem"))
    tls = backends.start(tls_http_server(ctx), "foreign")
    cfg = http_config(backends={"be": f"""
        server s1 {tls.addr} ssl verify required ca-file {CERTS / 'ca.pem'} check inter 200ms
    """})
    sl = sluice(cfg, fds={"FE1": fe()})
    sl.wait_output("Server be/s1 is DOWN", timeout=5)
    line = lines_with(sl, "Server be/s1 is DOWN")[0]
    assert "reason: Layer6 invalid response" in line, line


# ------------------------------------------------------------------------------------------------------------------
# reload
# ------------------------------------------------------------------------------------------------------------------

def reload_config(sl, cfg: str, reloads: int) -> str:
    (sl.workdir / f"{sl.name}.cfg").write_text(cfg)
    sl.signal(signal.SIGHUP)
    dl = Deadline(5)
    while len(lines_with(sl, "Reload complete")) < reloads:
        assert not dl.expired(), f"no 'Reload complete' after SIGHUP:\n{sl.stderr()[-2000:]}"
        time.sleep(0.02)  # bounded polling of the log file
    return lines_with(sl, "Reload complete")[reloads - 1]


@pytest.mark.sluice_only("in-process reload keeps health state (HAProxy reloads by replacing the process)")
def test_down_server_stays_down_across_reload(sluice, backends, fe):
    sick = backends.start(status_server(500), "sick")
    good = backends.http("s2")
    cfg = http_config(backends={"be": f"""
        option httpchk GET /health
        server s1 {sick.addr} check inter 200ms
        server s2 {good.addr} check inter 200ms
    """})
    sl = sluice(cfg, fds={"FE1": fe()})
    sl.wait_output("Server be/s1 is DOWN", timeout=5)
    summary = reload_config(sl, cfg, 1)
    assert "servers +0 -0 ~0 =2" in summary, summary
    # Checks go on after the reload (three more on the sick server) and never bring it up, not even briefly.
    checks_at_reload = sick.accepted
    sick.wait(lambda: sick.accepted >= checks_at_reload + 3, 5, "three checks after the reload")
    assert not lines_with(sl, "Server be/s1 is UP"), sl.stderr()
    assert len(lines_with(sl, "Server be/s1 is DOWN")) == 1, sl.stderr()
    for _ in range(4):
        r = get(sl.ports["FE1"])
        assert (r.status, r.header("x-backend")) == (200, "s2"), r


@pytest.mark.sluice_only("in-process reload")
def test_reload_starts_new_checks_and_stops_removed_ones(sluice, backends, fe):
    a = backends.start(status_server(200), "a")
    b = backends.start(status_server(200), "b")
    c = backends.start(status_server(200), "c")
    body = "option httpchk GET /\n"
    cfg1 = http_config(backends={"be": body + f"server a {a.addr} check inter 200ms\nserver b {b.addr} check inter 200ms"})
    cfg2 = http_config(backends={"be": body + f"server a {a.addr} check inter 200ms\nserver c {c.addr} check inter 200ms"})
    sl = sluice(cfg1, fds={"FE1": fe()})
    b.wait(lambda: b.accepted >= 2, 5, "checks of b before the reload")
    summary = reload_config(sl, cfg2, 1)
    assert "servers +1 -1 ~0 =1" in summary, summary
    b.wait(lambda: b.current == 0, 5, "b's last check connection closed")
    b_checks = b.accepted
    c.wait(lambda: c.accepted >= 3, 5, "checks of the new server c")
    a_now = a.accepted
    a.wait(lambda: a.accepted >= a_now + 2, 5, "checks of the kept server a go on")
    assert b.accepted == b_checks, f"removed server b still checked ({b.accepted} > {b_checks})"
