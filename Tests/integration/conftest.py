"""Harness for sluice's integration tests: the real binary, real sockets on 127.0.0.1.

What the harness guarantees (see README.md):
  * The binary is $SLUICE_BIN (default <repo>/.build/release/sluice), run as `BIN -f cfg` in the foreground,
    in its own session, stdout/stderr captured to files in the test's tmp_path.
  * Frontend ports are bound by the test (127.0.0.1:0) and passed as inherited fds: the config says
    `bind "fd@${FE1}"` and the environment holds FE1=<fd>. No port races.
  * Readiness is the systemd notify protocol: NOTIFY_SOCKET names a unix datagram socket the test owns, and
    the harness waits (bounded) for a datagram with READY=1. If SLUICE_BIN is haproxy (validation mode), it
    runs `haproxy -db -f cfg` and waits for an extra listener the harness appends to the config instead.
  * No blind sleeps: every wait is for a condition (a datagram, a port, a log line, a counter) with a deadline.
  * Teardown sends SIGTERM to the PID it started (nothing else), expects exit code 0, and sluice's stderr is
    attached to the report of every failed test.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

import pytest

REPO = Path(__file__).resolve().parents[2]
SLUICE_BIN = os.environ.get("SLUICE_BIN") or str(REPO / ".build" / "release" / "sluice")
# Resolved once: sluice runs with its cwd in the test's tmp_path, so a relative path would break.
SLUICE_BIN = shutil.which(SLUICE_BIN) or SLUICE_BIN if "/" not in SLUICE_BIN else os.path.abspath(SLUICE_BIN)
HAPROXY_MODE = os.path.basename(SLUICE_BIN) == "haproxy"

READY_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
TEST_BUDGET = 60.0  # hard ceiling per test (SIGALRM), a safety net under the per-wait deadlines


# --------------------------------------------------------------------------------------------------------------
# pytest plumbing: markers, a per-test time budget, sluice's output on failure
# --------------------------------------------------------------------------------------------------------------

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sluice_only(reason): test checks sluice-specific behaviour; skipped when SLUICE_BIN is haproxy")


def pytest_collection_modifyitems(config, items):
    if not HAPROXY_MODE:
        return
    for item in items:
        m = item.get_closest_marker("sluice_only")
        if m is not None:
            reason = m.args[0] if m.args else "sluice-specific"
            item.add_marker(pytest.mark.skip(reason=f"sluice-specific ({reason}); SLUICE_BIN is haproxy"))


class BudgetExceeded(Exception):
    pass


def _alarm(signum, frame):
    raise BudgetExceeded(f"test exceeded its {TEST_BUDGET:.0f}s budget")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TEST_BUDGET)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"_rep_{rep.when}", rep)
    if rep.failed:
        for i, proc in enumerate(getattr(item, "_sluice_procs", [])):
            rep.sections.append((f"sluice #{i} {proc.describe()}", proc.output_tail()))


def pytest_sessionstart(session):
    # 500 concurrent connections need ~1000 fds in this process (clients + backend side).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


# --------------------------------------------------------------------------------------------------------------
# Deadlines and waiting
# --------------------------------------------------------------------------------------------------------------

class Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.end


def wait_until(pred: Callable[[], bool], timeout: float, what: str, cond: threading.Condition | None = None,
               poll: float = 0.02) -> None:
    """Wait until pred() is true, or fail saying `what` was not reached. With `cond`, wakes on notify."""
    if not wait_for(pred, timeout, cond, poll):
        pytest.fail(f"timed out after {timeout:.1f}s waiting for: {what}")


def wait_for(pred: Callable[[], bool], timeout: float, cond: threading.Condition | None = None,
             poll: float = 0.02) -> bool:
    """Like wait_until but returns False on timeout (used for 'this must NOT happen within T' checks)."""
    dl = Deadline(timeout)
    if cond is not None:
        with cond:
            return cond.wait_for(pred, timeout=timeout)
    while True:
        if pred():
            return True
        if dl.expired():
            return False
        time.sleep(min(poll, dl.left()))  # polling interval of a bounded wait, not a blind sleep


# --------------------------------------------------------------------------------------------------------------
# Client helpers
# --------------------------------------------------------------------------------------------------------------

def connect(port: int, timeout: float = 5.0, host: str = "127.0.0.1") -> socket.socket:
    s = socket.create_connection((host, port), timeout=timeout)
    s.settimeout(timeout)
    return s


def recv_exact(sock: socket.socket, n: int, timeout: float = 5.0) -> bytes:
    dl = Deadline(timeout)
    buf = bytearray()
    while len(buf) < n:
        if dl.expired():
            raise AssertionError(f"received {len(buf)} of {n} expected bytes before {timeout}s deadline: "
                                 f"{bytes(buf[:80])!r}...")
        sock.settimeout(max(0.01, dl.left()))
        try:
            chunk = sock.recv(min(65536, n - len(buf)))
        except socket.timeout:
            continue
        if not chunk:
            raise AssertionError(f"EOF after {len(buf)} of {n} expected bytes: {bytes(buf[:80])!r}")
        buf += chunk
    return bytes(buf)


def recv_until_eof(sock: socket.socket, timeout: float = 5.0, reset_ok: bool = False) -> bytes:
    """Read until EOF. Fails on timeout; a reset fails unless reset_ok (then returns what was read)."""
    dl = Deadline(timeout)
    buf = bytearray()
    while True:
        if dl.expired():
            raise AssertionError(f"no EOF within {timeout}s (got {len(buf)} bytes: {bytes(buf[:80])!r})")
        sock.settimeout(max(0.01, dl.left()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            if reset_ok:
                return bytes(buf)
            raise AssertionError(f"connection reset after {len(buf)} bytes, expected a clean EOF")
        if not chunk:
            return bytes(buf)
        buf += chunk


def echo_roundtrip(port: int, payload: bytes = b"ping\n", timeout: float = 5.0) -> bytes:
    """Connect, send payload, half-close, read until EOF; returns what came back."""
    with connect(port, timeout) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        return recv_until_eof(s, timeout)


def transfer(sock: socket.socket, payload: bytes, timeout: float = 30.0, chunk: int = 65536,
             half_close: bool = True) -> bytes:
    """Send payload while reading concurrently (one thread, select); after sending, SHUT_WR if half_close,
    then read until EOF. Returns the bytes received."""
    sock.setblocking(False)
    dl = Deadline(timeout)
    view = memoryview(payload)
    sent = 0
    got = bytearray()
    wr_open = True
    try:
        while True:
            if dl.expired():
                raise AssertionError(f"transfer timed out after {timeout}s: sent {sent}/{len(payload)}, "
                                     f"received {len(got)}")
            wlist = [sock] if wr_open else []
            r, w, _ = select.select([sock], wlist, [], min(0.5, dl.left()))
            if r:
                try:
                    data = sock.recv(262144)
                except BlockingIOError:
                    data = None
                if data is not None:
                    if not data:
                        break
                    got += data
            if w and wr_open:
                try:
                    sent += sock.send(view[sent:sent + chunk])
                except BlockingIOError:
                    pass
                if sent == len(payload):
                    wr_open = False
                    if half_close:
                        sock.shutdown(socket.SHUT_WR)
                    else:
                        break
    finally:
        sock.setblocking(True)
    return bytes(got)


def exchange(sock: socket.socket, payload: bytes, timeout: float = 30.0, chunk: int = 65536) -> bytes:
    """Send payload while reading concurrently until exactly len(payload) bytes came back (echo peer); the
    connection stays open both ways."""
    sock.setblocking(False)
    dl = Deadline(timeout)
    view = memoryview(payload)
    sent = 0
    got = bytearray()
    try:
        while len(got) < len(payload):
            if dl.expired():
                raise AssertionError(f"exchange timed out after {timeout}s: sent {sent}/{len(payload)}, "
                                     f"received {len(got)}")
            wlist = [sock] if sent < len(payload) else []
            r, w, _ = select.select([sock], wlist, [], min(0.5, dl.left()))
            if r:
                try:
                    data = sock.recv(min(262144, len(payload) - len(got)))
                except BlockingIOError:
                    data = None
                if data is not None:
                    if not data:
                        raise AssertionError(f"EOF after {len(got)} of {len(payload)} echoed bytes")
                    got += data
            if w:
                try:
                    sent += sock.send(view[sent:sent + chunk])
                except BlockingIOError:
                    pass
    finally:
        sock.setblocking(True)
    return bytes(got)


def rst_close(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def listen_socket(backlog: int = 1024, host: str = "127.0.0.1") -> socket.socket:
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 0))
    s.listen(backlog)
    return s


# --------------------------------------------------------------------------------------------------------------
# Backends: small real servers on an asyncio loop in a background thread
# --------------------------------------------------------------------------------------------------------------

class ConnInfo:
    """What a backend saw on one connection."""

    def __init__(self, index: int, peer):
        self.index = index
        self.peer = peer
        self.received = 0
        self.first_bytes = b""
        self.sha = hashlib.sha256()
        self.saw_eof = False
        self.closed = False
        self.data = bytearray()  # kept only by handlers that ask for it


class Backend:
    """A TCP server on 127.0.0.1:0 driven by an asyncio handler `async def h(backend, conn, reader, writer)`.

    Counts connections (accepted, current, max_current) under a Condition that is notified on every change,
    so tests can wait for counts without sleeping. With `ssl` (a server-side ssl.SSLContext) it speaks TLS: the
    handler runs after the handshake, on the decrypted stream; a connection whose handshake fails never reaches
    the handler and is not counted."""

    def __init__(self, handler, name: str = "backend", ssl=None):
        self.name = name
        self.handler = handler
        self.ssl = ssl
        self.cond = threading.Condition()
        self.accepted = 0
        self.current = 0
        self.max_current = 0
        self.conns: list[ConnInfo] = []
        self.errors: list[str] = []
        self._sock = listen_socket(1024)
        self.port = self._sock.getsockname()[1]
        self.addr = f"127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._server = None
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), name=f"backend-{name}", daemon=True)
        self._thread.start()
        if not started.wait(5):
            raise RuntimeError(f"backend {name} did not start")

    def _run(self, started: threading.Event):
        asyncio.set_event_loop(self._loop)

        async def boot():
            self._server = await asyncio.start_server(self._on_conn, sock=self._sock, limit=1 << 20,
                                                      backlog=1024, ssl=self.ssl)

        self._loop.run_until_complete(boot())
        started.set()
        self._loop.run_forever()
        # shutdown: close server and remaining transports
        self._server.close()
        tasks = asyncio.all_tasks(self._loop)
        for t in tasks:
            t.cancel()
        self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self._loop.close()

    async def _on_conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        with self.cond:
            conn = ConnInfo(self.accepted, writer.get_extra_info("peername"))
            self.accepted += 1
            self.current += 1
            self.max_current = max(self.max_current, self.current)
            self.conns.append(conn)
            self.cond.notify_all()
        try:
            await self.handler(self, conn, reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception as e:  # recorded, surfaced by tests that care
            self.errors.append(f"conn {conn.index}: {e!r}")
        finally:
            # Count the connection as gone BEFORE the FIN leaves, so a proxy that frees its slot on our close
            # can never make us observe a spurious extra concurrent connection.
            with self.cond:
                self.current -= 1
                conn.closed = True
                self.cond.notify_all()
            writer.close()

    def wait(self, pred: Callable[[], bool], timeout: float, what: str):
        wait_until(pred, timeout, f"{self.name}: {what} (accepted={self.accepted}, current={self.current}, "
                                  f"max={self.max_current})", cond=self.cond)

    def stop(self):
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


async def _read(backend: Backend, conn: ConnInfo, reader: asyncio.StreamReader, n: int = 65536) -> bytes:
    data = await reader.read(n)
    if data:
        with backend.cond:
            if not conn.first_bytes:
                conn.first_bytes = data[:64]
            conn.received += len(data)
            conn.sha.update(data)
            backend.cond.notify_all()
    else:
        with backend.cond:
            conn.saw_eof = True
            backend.cond.notify_all()
    return data


def echo_handler(delay: float = 0.0):
    """Echo everything; after the client's EOF, close (FIN). Hashes what it received."""

    async def h(backend, conn, reader, writer):
        while True:
            data = await _read(backend, conn, reader)
            if not data:
                break
            if delay:
                await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()

    return h


def tag_handler(name: str, then: str = "close"):
    """Answer each connection with `name\\n`, then close (then='close') or echo (then='echo')."""

    async def h(backend, conn, reader, writer):
        writer.write(name.encode() + b"\n")
        await writer.drain()
        if then == "echo":
            await echo_handler()(backend, conn, reader, writer)

    return h


class Backends:
    """Fixture object: creates backends and refused addresses, cleans them up."""

    def __init__(self):
        self._all: list[Backend] = []
        self._holders: list[socket.socket] = []

    def start(self, handler, name: str = "backend", ssl=None) -> Backend:
        b = Backend(handler, name, ssl=ssl)
        self._all.append(b)
        return b

    def echo(self, name: str = "echo", delay: float = 0.0) -> Backend:
        return self.start(echo_handler(delay), name)

    def tag(self, name: str, then: str = "close", ssl=None) -> Backend:
        return self.start(tag_handler(name, then), name, ssl=ssl)

    def http(self, name: str = "http", ssl=None):
        """An HTTP/1.1 origin server (httpbackend.HttpBackend): request log, behaviour chosen by query string,
        WebSocket echo. With `ssl` (a server-side ssl.SSLContext), HTTPS."""
        from httpbackend import HttpBackend  # imported here: httpbackend itself imports this module

        b = HttpBackend(name, ssl=ssl)
        self._all.append(b)
        return b

    def refused(self) -> str:
        """An address where nothing listens: a socket bound (never listening) and kept until teardown, so the
        port cannot be reused by anyone else and a connect to it gets RST (ECONNREFUSED)."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        self._holders.append(s)
        return f"127.0.0.1:{s.getsockname()[1]}"

    def close(self):
        for b in self._all:
            b.stop()
        for s in self._holders:
            s.close()


@pytest.fixture
def backends():
    bs = Backends()
    yield bs
    bs.close()


# --------------------------------------------------------------------------------------------------------------
# The sluice process
# --------------------------------------------------------------------------------------------------------------

GLOBAL_DEFAULTS = """\
global
    nbthread 1
    maxconn {maxconn}
{global_extra}
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
{defaults_extra}
"""


def base_config(global_extra: str = "", defaults_extra: str = "", maxconn: int = 4096) -> str:
    """The `global` and `defaults` sections every test config starts with."""
    return GLOBAL_DEFAULTS.format(global_extra=global_extra, defaults_extra=defaults_extra, maxconn=maxconn)


class SluiceProcess:
    def __init__(self, workdir: Path, name: str):
        self.workdir = workdir
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.cmd: list[str] = []
        self.stdout_path = workdir / f"{name}.stdout"
        self.stderr_path = workdir / f"{name}.stderr"
        self.notify_sock: socket.socket | None = None
        self.notify_dir: str | None = None
        self.notifications: list[bytes] = []
        self.ports: dict[str, int] = {}
        self.listeners: dict[str, socket.socket] = {}
        self.config_path: Path | None = None  # the first -f file: write_config() replaces it
        self.returncode: int | None = None
        self.stopped = False

    # ---- output ----
    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stdout(self) -> str:
        try:
            return self.stdout_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def output_tail(self, limit: int = 8000) -> str:
        err, out = self.stderr(), self.stdout()
        text = f"--- stderr ({len(err)} bytes) ---\n{err[-limit:]}"
        if out:
            text += f"\n--- stdout ({len(out)} bytes) ---\n{out[-limit:]}"
        return text

    def describe(self) -> str:
        rc = self.proc.returncode if self.proc else None
        return f"pid={self.proc.pid if self.proc else '-'} rc={rc} cmd={' '.join(self.cmd)}"

    def fail(self, msg: str):
        # sluice's output follows in the report section the makereport hook adds to every failure.
        pytest.fail(f"sluice {msg}\n[{self.describe()}]", pytrace=False)

    # ---- lifecycle ----
    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, config: str | None, fds: dict[str, socket.socket] | None = None, args: Iterable[str] = (),
              config_files: Iterable[Path] | None = None, wait_ready: bool = True,
              close_listeners: bool = True, extra_env: dict[str, str] | None = None,
              activated: list[socket.socket] | None = None, fdnames: list[str] | None = None,
              prefix: list[str] | None = None, notify_access: bool = False,
              notify_chroot: str | None = None) -> "SluiceProcess":
        """Render `config` into the work dir and start `BIN [args] -f cfg`. fds: env name -> listening socket,
        passed by inheritance. With wait_ready, waits for READY=1 and then (close_listeners) closes the test's
        own copies of the listening sockets, so that once sluice closes them the port refuses connections.

        Operations extras (all optional):
          activated:     sockets passed the way systemd does: as fds 3, 4, ... with LISTEN_FDS, LISTEN_PID equal
                         to sluice's own pid (a tiny exec wrapper sets it, then execs sluice in the same process)
                         and LISTEN_FDNAMES from `fdnames`. They count as the test's listener copies
                         (self.listeners["LISTEN_FD3"], ...).
          prefix:        a command put before BIN (e.g. systemd-socket-activate ...), which must exec sluice in
                         its own process so that self.pid stays sluice's pid.
          notify_access: let any user send to the notify socket (sluice dropping privileges, as systemd's
                         /run/systemd/notify allows).
          notify_chroot: a directory sluice chroots into: the notify socket is also hard-linked at the same
                         path inside it, so that sd_notify still finds NOTIFY_SOCKET after the chroot."""
        fds = dict(fds or {})
        files = list(config_files or [])
        if config is not None:
            cfg = self.workdir / f"{self.name}.cfg"
            cfg.write_text(config)
            files.insert(0, cfg)
        self.config_path = files[0] if files else None
        ready_port = None
        if HAPROXY_MODE and wait_ready:
            # haproxy does not speak sd_notify outside master-worker mode: append a listener it binds itself
            # and wait for that port. (Validation mode only: reserving a port this way has a tiny race.)
            ready_port = _free_port()
            extra = self.workdir / f"{self.name}-zz-harness-ready.cfg"
            extra.write_text(f"\nlisten __harness_ready\n    bind 127.0.0.1:{ready_port}\n"
                             f"    tcp-request connection reject\n")
            files.append(extra)
        self.cmd = list(prefix or []) + [SLUICE_BIN]
        args = list(args)
        if HAPROXY_MODE and "-d" not in args and "-c" not in args:
            self.cmd.append("-db")
        self.cmd += args
        for f in files:
            self.cmd += ["-f", str(f)]

        env = {k: v for k, v in os.environ.items()
               if k not in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID",
                            "NOTIFY_SOCKET")}
        for name, sock in fds.items():
            env[name] = str(sock.fileno())
            self.ports[name] = sock.getsockname()[1]
            self.listeners[name] = sock
        pass_fds = [s.fileno() for s in fds.values()]
        staged: list[int] = []
        if activated:
            # Stage the sockets above every fd the child inherits, so that moving them down to 3, 4, ... can
            # clobber nothing; the wrapper dup2()s them into place, sets LISTEN_PID to its own pid and execs.
            targets = range(3, 3 + len(activated))
            clash = [name for name, s in fds.items() if s.fileno() in targets]
            assert not clash, f"fds {clash} would be overwritten by the socket-activation fds {list(targets)}"
            staged = [fcntl.fcntl(s.fileno(), fcntl.F_DUPFD_CLOEXEC, 200) for s in activated]
            pass_fds += staged
            self.cmd = [sys.executable, "-c", _ACTIVATE_WRAPPER, ",".join(map(str, staged))] + self.cmd
            env["LISTEN_FDS"] = str(len(activated))
            if fdnames is not None:
                env["LISTEN_FDNAMES"] = ":".join(fdnames)
            for i, s in enumerate(activated):
                self.ports[f"LISTEN_FD{3 + i}"] = s.getsockname()[1]
                self.listeners[f"LISTEN_FD{3 + i}"] = s
        env.update(extra_env or {})
        # A short directory: sun_path is limited to 108 bytes and tmp_path can be long.
        self.notify_dir = tempfile.mkdtemp(prefix="sl-", dir="/tmp")
        notify_path = os.path.join(self.notify_dir, "notify")
        self.notify_sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify_sock.bind(notify_path)
        if notify_access:
            os.chmod(self.notify_dir, 0o755)
            os.chmod(notify_path, 0o777)
        if notify_chroot is not None:
            inside = Path(notify_chroot + notify_path)
            inside.parent.mkdir(parents=True, exist_ok=True)
            os.link(notify_path, inside)  # a unix socket is found by inode: a hard link reaches the same socket
        env["NOTIFY_SOCKET"] = notify_path

        try:
            with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
                self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                             cwd=self.workdir, pass_fds=pass_fds, start_new_session=True)
        finally:
            for fd in staged:
                os.close(fd)
        if wait_ready:
            if ready_port is not None:
                self._wait_port(ready_port)
            else:
                self.wait_notify(b"READY=1", READY_TIMEOUT)
            if close_listeners:
                self.close_listeners()
        return self

    def close_listeners(self):
        for s in self.listeners.values():
            s.close()

    def _wait_port(self, port: int):
        dl = Deadline(READY_TIMEOUT)
        while True:
            if not self.alive():
                self.fail(f"exited during start-up with code {self.proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                pass
            if dl.expired():
                self.fail(f"(haproxy mode) port {port} not accepting within {READY_TIMEOUT}s")
            time.sleep(0.02)  # bounded polling of the port

    def wait_notify(self, message: bytes, timeout: float) -> None:
        """Wait for a notify datagram with a line equal to `message` (e.g. b'READY=1')."""
        if any(message in n.split(b"\n") for n in self.notifications):
            return
        dl = Deadline(timeout)
        while True:
            if dl.expired():
                got = b" | ".join(self.notifications).decode(errors="replace") or "nothing"
                self.fail(f"no {message.decode()} on NOTIFY_SOCKET within {timeout}s (received: {got})")
            r, _, _ = select.select([self.notify_sock], [], [], min(0.1, dl.left()))
            if r:
                data = self.notify_sock.recv(65536)
                self.notifications.append(data)
                if message in data.split(b"\n"):
                    return
            elif not self.alive():
                self.fail(f"exited with code {self.proc.returncode} before sending {message.decode()}")

    def drain_notify(self) -> list[bytes]:
        """Read every datagram already queued on the notify socket (no waiting); returns all received so far."""
        while self.notify_sock is not None:
            r, _, _ = select.select([self.notify_sock], [], [], 0)
            if not r:
                break
            self.notifications.append(self.notify_sock.recv(65536))
        return self.notifications

    def wait_notify_from(self, start: int, message: bytes, timeout: float) -> int:
        """Wait for a datagram at index >= start (in self.notifications) with a line equal to `message` (e.g.
        b'READY=1'); returns its index. Unlike wait_notify, datagrams received before `start` do not count."""
        dl = Deadline(timeout)
        seen = start
        while True:
            for i in range(seen, len(self.notifications)):
                if message in self.notifications[i].split(b"\n"):
                    return i
            seen = max(seen, len(self.notifications))
            if dl.expired():
                got = b" | ".join(self.notifications[start:]).decode(errors="replace") or "nothing"
                self.fail(f"no {message.decode()} on NOTIFY_SOCKET within {timeout}s (received since: {got})")
            r, _, _ = select.select([self.notify_sock], [], [], min(0.1, dl.left()))
            if r:
                self.notifications.append(self.notify_sock.recv(65536))
            elif not self.alive():
                self.fail(f"exited with code {self.proc.returncode} before sending {message.decode()}")

    def write_config(self, text: str) -> None:
        """Replace the (first) configuration file, for the next reload. Written aside, then renamed over it."""
        tmp = self.config_path.with_name(self.config_path.name + ".new")
        tmp.write_text(text)
        os.chmod(tmp, os.stat(self.config_path).st_mode & 0o777)
        os.replace(tmp, self.config_path)

    def reload(self, expect: str = "complete", timeout: float = 10.0, log: bool = True) -> str:
        """SIGHUP, then wait (new datagrams only) for RELOADING=1 followed by READY=1, and for the reload's own
        line on stderr: 'Reload complete: ...' (expect='complete') or 'Reload failed ...' (expect='failed').
        Returns that line ('' with log=False, e.g. under -q). Fails if the other outcome is logged."""
        needles = {"complete": "Reload complete: ", "failed": "Reload failed "}
        assert expect in needles, expect
        self.drain_notify()
        start = len(self.notifications)
        before = {k: self.stderr().count(n) for k, n in needles.items()}
        self.signal(signal.SIGHUP)
        i = self.wait_notify_from(start, b"RELOADING=1", timeout)
        self.wait_notify_from(i + 1, b"READY=1", timeout)
        if not log:
            return ""
        dl = Deadline(5)
        while True:
            text = self.stderr()
            for outcome, needle in needles.items():
                if text.count(needle) > before[outcome]:
                    line = [ln for ln in text.splitlines() if needle in ln][-1]
                    if outcome != expect:
                        self.fail(f"reload: expected '{needles[expect].strip()}', got: {line}")
                    return line
            if dl.expired():
                self.fail(f"READY=1 after SIGHUP but no reload line on stderr within 5s")
            time.sleep(0.02)  # bounded polling of a log file

    def wait_output(self, needle: str, timeout: float = 5.0, stream: str = "stderr") -> str:
        """Wait until `needle` appears in sluice's stderr (or stdout)."""
        read = self.stderr if stream == "stderr" else self.stdout
        dl = Deadline(timeout)
        while True:
            text = read()
            if needle in text:
                return text
            if dl.expired():
                self.fail(f"{needle!r} did not appear on {stream} within {timeout}s")
            time.sleep(0.02)  # bounded polling of a log file

    def signal(self, sig: int):
        assert self.alive(), f"sluice is not running (rc={self.proc.returncode})"
        os.kill(self.proc.pid, sig)  # only ever the pid we started

    def wait_exit(self, timeout: float) -> int | None:
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.stopped = True
        return self.returncode

    def expect_clean_exit(self, timeout: float = STOP_TIMEOUT, after: str = "") -> None:
        rc = self.wait_exit(timeout)
        if rc is None:
            self.fail(f"still running {timeout}s after {after or 'stop'}")
        if not _clean_rc(rc):
            self.fail(f"exit code {rc} after {after or 'stop'}, expected 0")

    def stop(self) -> str | None:
        """SIGTERM the pid we started, wait for it; returns an error string if the stop was not clean."""
        problem = None
        if self.proc is not None and not self.stopped:
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGTERM)
                rc = self.wait_exit(STOP_TIMEOUT)
                if rc is None:
                    os.kill(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(5)
                    problem = f"did not exit within {STOP_TIMEOUT}s of SIGTERM (killed)"
                elif not _clean_rc(rc):
                    problem = f"exit code {rc} after SIGTERM, expected 0"
            elif not _clean_rc(self.proc.returncode):
                problem = f"had already exited with code {self.proc.returncode} before teardown"
            self.stopped = True
        if self.notify_sock is not None:
            self.notify_sock.close()
            self.notify_sock = None
        if self.notify_dir:
            shutil.rmtree(self.notify_dir, ignore_errors=True)
            self.notify_dir = None
        for s in self.listeners.values():
            s.close()
        return problem


# Socket activation the way systemd does it: argv[1] lists staged fds, moved to 3, 4, ... in order; LISTEN_PID is
# this process's pid, which stays the pid of the program it execs (argv[2:]). LISTEN_FDS/NAMES come from env.
_ACTIVATE_WRAPPER = """
import os, sys
staged = [int(x) for x in sys.argv[1].split(",")]
for i, fd in enumerate(staged):
    os.dup2(fd, 3 + i)
for fd in staged:
    os.close(fd)
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[2], sys.argv[2:])
"""


def _clean_rc(rc: int) -> bool:
    # HAProxy 2.6 in the foreground dies *by* SIGTERM/SIGINT (rc -15/-2); sluice must exit 0.
    return rc == 0 or (HAPROXY_MODE and rc in (-signal.SIGTERM, -signal.SIGINT))


def free_ports(n: int) -> list[int]:
    """n distinct ports free on 127.0.0.1 right now (all held at once while picking, so no two are the same; the
    caller binds them later: a tiny race, acceptable for the few tests where sluice must bind an address itself)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="session")
def sluice_bin() -> str:
    if not os.access(SLUICE_BIN, os.X_OK):
        pytest.fail(f"SLUICE_BIN={SLUICE_BIN} is not an executable file (build with `swift build -c release` "
                    f"or set SLUICE_BIN)", pytrace=False)
    return SLUICE_BIN


class SluiceFactory:
    def __init__(self, workdir: Path, item):
        self.workdir = workdir
        self.item = item
        self.procs: list[SluiceProcess] = []

    def __call__(self, config: str | None = None, **kw) -> SluiceProcess:
        p = SluiceProcess(self.workdir, f"sluice{len(self.procs)}")
        self.procs.append(p)
        self.item._sluice_procs = self.procs
        return p.start(config, **kw)

    def check(self, *paths: Path | str, timeout: float = 10.0) -> subprocess.CompletedProcess:
        """Run `BIN -c -f P1 [-f P2 ...]` and return the completed process (text output)."""
        cmd = [SLUICE_BIN, "-c"]
        for p in paths:
            cmd += ["-f", str(p)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.workdir,
                              stdin=subprocess.DEVNULL)


@pytest.fixture
def sluice(sluice_bin, tmp_path, request):
    """Start sluice: `sluice(config_text, fds={"FE1": sock}, args=[...])` -> SluiceProcess (READY)."""
    f = SluiceFactory(tmp_path, request.node)
    yield f
    call = getattr(request.node, "_rep_call", None)
    test_failed = call is not None and call.failed
    problems = []
    for p in f.procs:
        exited_early = p.proc is not None and p.proc.poll() is not None and not p.stopped
        problem = p.stop()
        # An early exit after a failed test is usually the failure's consequence, already reported with
        # sluice's output; a bad SIGTERM exit is always reported.
        if problem and not (exited_early and test_failed):
            problems.append(f"{p.describe()}: {problem}")
    if problems:
        pytest.fail("sluice did not stop cleanly:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def fe():
    """A fresh listening socket on 127.0.0.1:0 to pass to sluice as an inherited fd."""
    socks = []

    def make(backlog: int = 1024, host: str = "127.0.0.1") -> socket.socket:
        s = listen_socket(backlog, host)
        socks.append(s)
        return s

    yield make
    for s in socks:
        s.close()
