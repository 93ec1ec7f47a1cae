"""Log targets (issue 5, item 6): stdout, stderr, a unix datagram socket and UDP syslog, each received on a socket or
file the test owns; formats rfc3164, rfc5424 and raw parsed field by field (PRI = facility * 8 + severity);
`len` truncation; level filtering; admin events (start, reload, stop) at notice from the global targets, access
logs (`option tcplog`) through `log global` or a proxy's own target; a reload switches the targets."""

import datetime
import os
import re
import select
import shutil
import signal
import socket
import tempfile
import time

import pytest

from conftest import Deadline, base_config, echo_roundtrip

pytestmark = pytest.mark.sluice_only("admin-event texts and log framing are sluice's")

FACILITY = {"local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20}
SEVERITY = {"alert": 1, "warning": 4, "notice": 5, "info": 6}

RFC3164 = re.compile(r"^<(\d{1,3})>(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ 123]\d) "
                     r"(\d\d):(\d\d):(\d\d) sluice\[(\d+)\]: (.*)$", re.S)
RFC5424 = re.compile(r"^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d) (\S+) sluice (\d+) - - (.*)$",
                     re.S)
STARTED = re.compile(r"^sluice \S+ started: 1 frontends, 1 backends, 1 listeners, maxconn \d+$")
TCPLOG = re.compile(r"^127\.0\.0\.1:\d+ \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] fe be/s1 \S+ \d+ -- ")


class Sink:
    """A datagram socket the test owns (UDP on 127.0.0.1:0 or unix in a short tmp dir); collects messages."""

    def __init__(self, kind: str):
        self.dir = None
        if kind == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", 0))
            self.target = f"udp@127.0.0.1:{self.sock.getsockname()[1]}"
        else:
            self.dir = tempfile.mkdtemp(prefix="sl-log-", dir="/tmp")
            path = os.path.join(self.dir, "log")
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.sock.bind(path)
            self.target = path
        self.messages: list[bytes] = []

    def drain(self, timeout: float = 0.0) -> list[bytes]:
        dl = Deadline(timeout)
        while True:
            r, _, _ = select.select([self.sock], [], [], dl.left())
            if not r:
                return self.messages
            self.messages.append(self.sock.recv(65536))

    def wait(self, pred, timeout: float, what: str) -> list[bytes]:
        dl = Deadline(timeout)
        while not pred(self.messages):
            assert not dl.expired(), f"{self.target}: no {what} within {timeout}s; got {self.messages}"
            r, _, _ = select.select([self.sock], [], [], min(0.1, dl.left()))
            if r:
                self.messages.append(self.sock.recv(65536))
        return self.messages

    def close(self):
        self.sock.close()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def sinks():
    made = []

    def make(kind: str = "udp") -> Sink:
        s = Sink(kind)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def cfg(be_addr: str, global_logs: str, proxy_extra: str = "") -> str:
    return base_config(global_extra=global_logs) + f"""
frontend fe
    bind "fd@${{FE1}}"
    default_backend be
{proxy_extra}
backend be
    server s1 {be_addr}
"""


def parse(fmt: str, msg: bytes) -> tuple[int, str]:
    """Checks one framed message; returns (PRI, text)."""
    text = msg.decode()
    if fmt == "raw":
        return -1, text
    if fmt == "rfc3164":
        m = RFC3164.match(text)
        assert m, f"not RFC 3164 '<PRI>Mmm dd hh:mm:ss sluice[pid]: msg': {text!r}"
        now = time.localtime()
        stamp = time.strptime(f"{now.tm_year} {m.group(2)} {m.group(3).strip()} {m.group(4)}:{m.group(5)}:"
                              f"{m.group(6)}", "%Y %b %d %H:%M:%S")
        assert abs(time.mktime(stamp) - time.time()) < 120, f"RFC 3164 timestamp is not now: {text!r}"
        return int(m.group(1)), m.group(8)
    m = RFC5424.match(text)
    assert m, f"not RFC 5424 '<PRI>1 TIME HOST sluice PID - - msg': {text!r}"
    stamp = datetime.datetime.fromisoformat(m.group(2))
    assert abs(stamp.timestamp() - time.time()) < 120, f"RFC 5424 timestamp is not now: {text!r}"
    assert m.group(3) == socket.gethostname(), f"HOSTNAME {m.group(3)!r}, expected {socket.gethostname()!r}"
    return int(m.group(1)), m.group(5)


def texts(fmt: str, messages: list[bytes], pid: int | None = None) -> list[tuple[int, str]]:
    out = [parse(fmt, m) for m in messages]
    if pid is not None and fmt != "raw":
        for m in messages:
            s = m.decode()
            assert (f"sluice[{pid}]: " in s) if fmt == "rfc3164" else (f" sluice {pid} - - " in s), \
                f"pid {pid} missing in {s!r}"
    return out


def has(needle: str):
    return lambda msgs: any(needle in m.decode(errors="replace") for m in msgs)


def test_each_target_and_format_gets_admin_events(sluice, backends, fe, sinks):
    """One sluice, four global targets: stdout raw, stderr rfc5424 (with -q, so stderr carries only the framed
    lines), a unix datagram socket rfc3164 and UDP rfc5424. Each gets start, reload and stop at notice."""
    be = backends.echo()
    unix, udp = sinks("unix"), sinks("udp")
    logs = (f"    log stdout format raw local0 notice\n"
            f"    log stderr format rfc5424 local3 notice\n"
            f"    log {unix.target} format rfc3164 local1 info\n"
            f"    log {udp.target} format rfc5424 local2\n")
    sl = sluice(cfg(be.addr, logs), fds={"FE1": fe()}, args=["-q"])
    pid = sl.pid
    for sink in (unix, udp):
        sink.wait(has(" started: "), 5, "start notice")
    sl.reload()  # finds 'Reload complete: ' in the rfc5424 line on stderr
    for sink in (unix, udp):
        sink.wait(has("Reload complete: "), 5, "reload notice")
    sl.signal(signal.SIGTERM)
    sl.expect_clean_exit(5, after="SIGTERM")
    unix.drain(0.2)
    udp.drain(0.2)

    expected = [("notice", r"sluice \S+ started: "), ("notice", r"received SIGHUP: reloading the configuration$"),
                ("notice", r"Reload complete: frontends \+0 -0 =1, "), ("notice", r"received SIGTERM: fast stop$")]

    def check(name: str, fmt: str, facility: str, messages: list[bytes]):
        got = texts(fmt, messages, pid)
        assert len(got) == len(expected), f"{name}: expected {len(expected)} admin events, got {got}"
        for (pri, text), (level, pattern) in zip(got, expected):
            assert re.match(pattern, text), f"{name}: {text!r} does not match {pattern!r}"
            if fmt != "raw":
                want = FACILITY[facility] * 8 + SEVERITY[level]
                assert pri == want, f"{name}: PRI {pri} for {facility}.{level}, expected {want}: {text!r}"

    check("unix rfc3164", "rfc3164", "local1", unix.messages)
    check("udp rfc5424", "rfc5424", "local2", udp.messages)
    out = sl.stdout().encode()
    assert out.endswith(b"\n"), f"stdout lines end with a newline: {out!r}"
    check("stdout raw", "raw", "local0", out[:-1].split(b"\n"))
    assert STARTED.match(out.split(b"\n")[0].decode()), f"raw format is the bare message: {out!r}"
    err = [line for line in sl.stderr().encode().split(b"\n") if line]
    assert not [line for line in err if b"[NOTICE]" in line], f"-q: no HAProxy-style notices on stderr: {err}"
    check("stderr rfc5424", "rfc5424", "local3", err)


def test_len_truncates_the_whole_line(sluice, backends, fe, sinks):
    be = backends.echo()
    full, short = sinks("udp"), sinks("udp")
    logs = (f"    log {full.target} format rfc3164 local0 info\n"
            f"    log {short.target} len 80 format rfc3164 local0 info\n")
    sl = sluice(cfg(be.addr, logs), fds={"FE1": fe()})
    full.wait(has(" started: "), 5, "start notice")
    short.wait(lambda m: len(m) >= 1, 5, "start notice")
    whole, cut = full.messages[0], short.messages[0]
    assert len(whole) > 80, f"the untruncated line must be longer than 80 bytes for this test: {whole!r}"
    assert 79 <= len(cut) <= 80, f"len 80: got a {len(cut)}-byte line: {cut!r}"
    (pri_whole, text_whole), (pri_cut, text_cut) = parse("rfc3164", whole), parse("rfc3164", cut)
    # Both lines end with LF, as HAProxy's do: compare the text before it.
    text_cut, text_whole = text_cut.rstrip("\n"), text_whole.rstrip("\n")
    assert pri_cut == pri_whole and len(text_cut) < len(text_whole) and text_whole.startswith(text_cut), \
        f"the truncated line must be the same line cut short: {cut!r} vs {whole!r}"


def test_level_filter(sluice, backends, fe, sinks):
    """A `warning` target gets the alerts of a failed reload but none of the notices; an `info` one gets both."""
    be = backends.echo()
    warn, info = sinks("udp"), sinks("udp")
    logs = (f"    log {warn.target} format rfc5424 local0 warning\n"
            f"    log {info.target} format rfc5424 local0 info\n")
    text = cfg(be.addr, logs)
    sl = sluice(text, fds={"FE1": fe()})
    info.wait(has(" started: "), 5, "start notice")
    sl.write_config(text + "    frobnicate\n")
    sl.reload(expect="failed")
    info.wait(has("Reload failed "), 5, "reload failure")
    warn.wait(has("Reload failed "), 5, "reload failure")
    warn.drain(0.2)
    got = texts("rfc5424", warn.messages)
    assert got, "the warning target received nothing"
    for pri, msg in got:
        assert pri % 8 <= SEVERITY["warning"], f"warning target received severity {pri % 8}: {msg!r}"
    assert any("frobnicate" in msg and msg.startswith("parsing [") for _, msg in got), got
    assert any(pri == FACILITY["local0"] * 8 + SEVERITY["alert"] and msg.startswith("Reload failed ")
               for pri, msg in got), f"'Reload failed' at alert: {got}"
    levels = {pri % 8 for pri, _ in texts("rfc5424", info.messages)}
    assert SEVERITY["notice"] in levels and SEVERITY["alert"] in levels, f"info target levels: {levels}"


def test_access_logs_through_log_global_and_a_proxy_target(sluice, backends, fe, sinks):
    be = backends.echo()
    glob, own = sinks("unix"), sinks("udp")
    logs = f"    log {glob.target} format rfc3164 local1 info\n"
    text = base_config(global_extra=logs) + f"""
frontend fe
    bind "fd@${{FE1}}"
    log global
    log {own.target} format raw local4 info
    option tcplog
    default_backend be

backend be
    server s1 {be.addr}
"""
    sl = sluice(text, fds={"FE1": fe()})
    assert echo_roundtrip(sl.ports["FE1"], b"x" * 10) == b"x" * 10
    own.wait(lambda m: len(m) >= 1, 5, "access log line")
    assert TCPLOG.match(own.messages[0].decode()), f"raw tcplog line: {own.messages[0]!r}"
    glob.wait(has(" fe be/s1 "), 5, "access log line via log global")
    access = [(pri, t) for pri, t in texts("rfc3164", glob.messages, sl.pid) if " fe be/s1 " in t]
    assert len(access) == 1, access
    pri, line = access[0]
    assert pri == FACILITY["local1"] * 8 + SEVERITY["info"], f"access log PRI {pri}: {line!r}"
    assert TCPLOG.match(line), line


def test_reload_switches_log_targets(sluice, backends, fe, sinks):
    be = backends.echo()
    old, new = sinks("udp"), sinks("udp")
    sl = sluice(cfg(be.addr, f"    log {old.target} format raw local0 info\n"), fds={"FE1": fe()})
    old.wait(has(" started: "), 5, "start notice")
    sl.write_config(cfg(be.addr, f"    log {new.target} format raw local0 info\n"))
    sl.reload()
    new.wait(has("Reload complete: "), 5, "reload summary on the new target")
    sl.signal(signal.SIGTERM)
    sl.expect_clean_exit(5, after="SIGTERM")
    new.drain(0.2)
    old.drain(0.2)
    assert has("received SIGTERM")(new.messages), new.messages
    assert not has("Reload complete")(old.messages) and not has("SIGTERM")(old.messages), \
        f"the removed target still receives: {old.messages}"
