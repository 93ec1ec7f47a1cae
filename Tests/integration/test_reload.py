"""In-process reload on SIGHUP, TCP mode (issue 5, items 3 and 8): a tunnel keeps flowing across reloads, an
invalid file keeps the old configuration serving, frontends dropped and added, a failed bind changes nothing,
settings that need a restart are refused, and server state (connection slots, queue) survives when the server is
kept by (backend, name, address).

Every reload waits for RELOADING=1 then READY=1 on the notify socket and for its log line (SluiceProcess.reload).
The HTTP-mode reload under 50 keep-alive clients is in test_reload_http.py."""

import hashlib
import os
import re
import socket
import threading

import pytest

from conftest import (_free_port, base_config, connect, echo_roundtrip, exchange, listen_socket, recv_exact,
                      recv_until_eof, wait_for)

pytestmark = pytest.mark.sluice_only("in-process reload on SIGHUP is sluice's (HAProxy reloads by re-exec)")

SUMMARY = re.compile(
    r"Reload complete: frontends \+(\d+) -(\d+) =(\d+), backends \+(\d+) -(\d+) =(\d+), "
    r"servers \+(\d+) -(\d+) ~(\d+) =(\d+), listeners \+(\d+) -(\d+) =(\d+); (\d+) connections still on "
    r"removed objects")


def summary(line: str) -> dict[str, tuple[int, ...] | int]:
    m = SUMMARY.search(line)
    assert m, f"not a reload summary line: {line!r}"
    g = [int(x) for x in m.groups()]
    return {"frontends": tuple(g[0:3]), "backends": tuple(g[3:6]), "servers": tuple(g[6:10]),
            "listeners": tuple(g[10:13]), "on_removed": g[13]}


def hello(port: int) -> bytes:
    """The tag line the backend behind `port` sends first."""
    with connect(port) as c:
        return recv_exact(c, 2)


def refused_now(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True


# --------------------------------------------------------------------------------------------------------------
# A TCP tunnel across 3 reloads
# --------------------------------------------------------------------------------------------------------------

class Streamer:
    """Keeps one connection busy from two threads: a writer sends random 16 KB chunks, never more than `window`
    bytes ahead of what came back; a reader hashes the echo. The stream is continuous while the test reloads."""

    def __init__(self, sock: socket.socket, window: int = 256 * 1024, chunk: int = 16 * 1024):
        self.sock = sock
        self.sock.settimeout(15)
        self.window, self.chunk = window, chunk
        self.sent = self.received = 0
        self.sent_sha, self.recv_sha = hashlib.sha256(), hashlib.sha256()
        self.cond = threading.Condition()
        self.stopping = False
        self.errors: list[str] = []
        self.eof = False
        self._w = threading.Thread(target=self._write, daemon=True)
        self._r = threading.Thread(target=self._read, daemon=True)
        self._w.start()
        self._r.start()

    def _write(self):
        try:
            while True:
                with self.cond:
                    if not self.cond.wait_for(lambda: self.stopping or self.sent - self.received < self.window,
                                              timeout=10):
                        self.errors.append(f"writer: no echo progress for 10s at {self.received}/{self.sent}")
                        return
                    if self.stopping:
                        return
                data = os.urandom(self.chunk)
                self.sock.sendall(data)
                with self.cond:
                    self.sent += len(data)
                    self.sent_sha.update(data)
        except OSError as e:
            self.errors.append(f"writer: {e!r} after {self.sent} bytes")

    def _read(self):
        try:
            while True:
                data = self.sock.recv(262144)
                with self.cond:
                    if not data:
                        self.eof = True
                        self.cond.notify_all()
                        return
                    self.received += len(data)
                    self.recv_sha.update(data)
                    self.cond.notify_all()
        except OSError as e:
            with self.cond:
                self.errors.append(f"reader: {e!r} after {self.received} bytes")
                self.cond.notify_all()

    def wait_more(self, nbytes: int, timeout: float, what: str) -> int:
        """Wait until `nbytes` more came back; returns the new total."""
        with self.cond:
            target = self.received + nbytes
            ok = self.cond.wait_for(lambda: self.received >= target or self.errors or self.eof, timeout)
            assert ok and not self.errors and not self.eof, \
                f"tunnel stalled {what}: {self.received}/{target} bytes, errors={self.errors}, eof={self.eof}"
            return self.received

    def finish(self, timeout: float = 15.0) -> None:
        """Stop writing, half-close, read the rest until EOF; every byte sent must have come back, in order."""
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        self._w.join(timeout)
        assert not self._w.is_alive(), "writer thread did not stop"
        self.sock.shutdown(socket.SHUT_WR)
        self._r.join(timeout)
        assert not self._r.is_alive(), f"no EOF within {timeout}s after the half-close"
        assert not self.errors, self.errors
        assert self.received == self.sent, f"echoed {self.received} of {self.sent} bytes"
        assert self.recv_sha.hexdigest() == self.sent_sha.hexdigest(), "echoed stream differs (sha256)"


def tunnel_cfg(server_addr: str) -> str:
    return base_config() + f"""
frontend fe
    bind "fd@${{FE1}}"
    default_backend be

backend be
    server s1 {server_addr}
"""


def test_tcp_tunnel_keeps_flowing_across_three_reloads(sluice, backends, fe):
    """A tunnel open on server A keeps flowing (bytes echoed before, between and after each reload, sha256 of the
    whole stream) while 3 reloads move s1 between A and B; new connections follow the file each time."""
    a, b = backends.tag("A", then="echo"), backends.tag("B", then="echo")
    sl = sluice(tunnel_cfg(a.addr), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    tunnel = connect(port, timeout=15)
    assert recv_exact(tunnel, 2) == b"A\n"
    stream = Streamer(tunnel)
    try:
        stream.wait_more(1 << 20, 10, "before the first reload")
        for i, target in enumerate([b, a, b], 1):
            sl.write_config(tunnel_cfg(target.addr))
            line = sl.reload()
            s = summary(line)
            assert s["servers"] == (1, 1, 0, 0), f"reload {i}: s1 with a new address is a new server: {line}"
            assert s["frontends"] == (0, 0, 1) and s["listeners"] == (0, 0, 1), f"reload {i}: {line}"
            assert s["on_removed"] == 1, f"reload {i}: the tunnel is still on a removed server: {line}"
            stream.wait_more(1 << 20, 10, f"after reload {i}")
            assert hello(port) == target.name.encode() + b"\n", f"reload {i}: new connections go to {target.name}"
            # That probe must be over before the next reload counts connections on removed objects.
            target.wait(lambda: all(c.closed for c in target.conns[1 if target is a else 0:]), 5, "probe closed")
    finally:
        stream.finish()
        tunnel.close()
    a.wait(lambda: a.conns[0].closed, 5, "tunnel's backend connection closed")
    assert a.conns[0].sha.hexdigest() == stream.sent_sha.hexdigest(), "backend A received different bytes"


# --------------------------------------------------------------------------------------------------------------
# Invalid reloads, restart-only settings
# --------------------------------------------------------------------------------------------------------------

def test_invalid_reload_keeps_old_config_serving_and_logs_each_error(sluice, backends, fe):
    a, b = backends.tag("A"), backends.tag("B")
    sl = sluice(tunnel_cfg(a.addr), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    bad = tunnel_cfg(b.addr) + "    frobnicate on\n" + "    server s2 127.0.0.1:notaport\n"
    sl.write_config(bad)
    lines = bad.splitlines()
    frob = lines.index("    frobnicate on") + 1
    s2 = lines.index("    server s2 127.0.0.1:notaport") + 1
    mark = len(sl.drain_notify())
    line = sl.reload(expect="failed")
    assert re.search(r"Reload failed after \d+ ms: .*; still serving the previous configuration", line), line
    err = sl.stderr()
    path = str(sl.config_path)
    for n, word in ((frob, "frobnicate"), (s2, "notaport")):
        m = re.search(rf"parsing \[{re.escape(path)}:{n}\] : .*{word}", err)
        assert m, f"no 'parsing [{path}:{n}] : ...{word}...' line in stderr:\n{err}"
    status = [d for d in sl.notifications[mark:] if b"READY=1" in d][0].decode()
    assert "last reload FAILED" in status, status
    assert hello(port) == b"A\n", "after a failed reload the previous configuration (server A) must serve"
    # A semantic error (undefined backend) is refused the same way, with its file:line.
    semantic = tunnel_cfg(b.addr).replace("default_backend be", "default_backend nowhere")
    sl.write_config(semantic)
    sl.reload(expect="failed")
    n = semantic.splitlines().index("    default_backend nowhere") + 1
    assert re.search(rf"parsing \[{re.escape(path)}:{n}\] : .*nowhere", sl.stderr()), sl.stderr()
    assert hello(port) == b"A\n"


@pytest.mark.parametrize("setting", ["tune.bufsize 32768", "tune.maxpollevents 64", "maxconn 100000000"])
def test_restart_only_setting_fails_the_reload(sluice, backends, fe, setting):
    a, b = backends.tag("A"), backends.tag("B")
    sl = sluice(tunnel_cfg(a.addr), fds={"FE1": fe()})
    text = tunnel_cfg(b.addr)
    if setting.startswith("maxconn"):
        text = text.replace("    maxconn 4096", f"    {setting}")
    else:
        text = text.replace("global\n", f"global\n    {setting}\n")
    sl.write_config(text)
    line = sl.reload(expect="failed")
    assert "requires a restart" in line, line
    assert hello(sl.ports["FE1"]) == b"A\n"


# --------------------------------------------------------------------------------------------------------------
# Frontends dropped, added, and a bind that fails
# --------------------------------------------------------------------------------------------------------------

def three_frontends(a_addr: str, names=("one", "two", "three"), extra: str = "") -> str:
    text = base_config()
    for i, name in enumerate(names, 1):
        text += f"""
frontend {name}
    bind "fd@${{FE{i}}}"
    default_backend be
"""
    return text + extra + f"""
backend be
    server s1 {a_addr}
"""


def test_reload_dropping_a_frontend_refuses_its_port_and_leaves_the_others(sluice, backends, fe):
    be = backends.echo()
    sl = sluice(three_frontends(be.addr), fds={"FE1": fe(), "FE2": fe(), "FE3": fe()})
    p1, p2, p3 = sl.ports["FE1"], sl.ports["FE2"], sl.ports["FE3"]
    kept = connect(p1)
    on_removed = connect(p2)
    assert exchange(kept, b"kept 1\n") == b"kept 1\n"
    assert exchange(on_removed, b"removed 1\n") == b"removed 1\n"
    # Drop frontend `two`: its bind line goes, FE2 stays in the environment but nothing names it.
    text = base_config() + f"""
frontend one
    bind "fd@${{FE1}}"
    default_backend be

frontend three
    bind "fd@${{FE3}}"
    default_backend be

backend be
    server s1 {be.addr}
"""
    sl.write_config(text)
    line = sl.reload()
    s = summary(line)
    assert s["frontends"] == (0, 1, 2) and s["listeners"] == (0, 1, 2), line
    assert s["on_removed"] == 1, f"the connection accepted by `two` is on a removed frontend: {line}"
    # The harness closed the test's copies at READY: sluice's close makes the port refuse at once.
    assert refused_now(p2), f"port {p2} of the dropped frontend still accepts connections"
    assert exchange(kept, b"kept 2\n") == b"kept 2\n", "open connection on a kept frontend"
    assert exchange(on_removed, b"removed 2\n") == b"removed 2\n", "a session in flight finishes on its frontend"
    for p in (p1, p3):
        assert echo_roundtrip(p, b"new\n") == b"new\n", f"new connection to kept port {p}"
    kept.shutdown(socket.SHUT_WR)
    assert recv_until_eof(kept) == b""
    kept.close()
    on_removed.close()


def test_reload_adding_a_frontend_binds_its_port(sluice, backends, fe):
    be = backends.echo()
    sl = sluice(tunnel_cfg(be.addr), fds={"FE1": fe()})
    port = _free_port()  # sluice binds it itself on reload (tiny race, loopback only)
    assert refused_now(port)
    sl.write_config(tunnel_cfg(be.addr) + f"""
frontend added
    bind 127.0.0.1:{port}
    default_backend be
""")
    line = sl.reload()
    s = summary(line)
    assert s["frontends"] == (1, 0, 1) and s["listeners"] == (1, 0, 1), line
    assert echo_roundtrip(port, b"added\n") == b"added\n"
    assert echo_roundtrip(sl.ports["FE1"], b"old\n") == b"old\n"


def test_reload_whose_new_bind_fails_changes_nothing(sluice, backends, fe):
    a, b = backends.tag("A"), backends.tag("B")
    sl = sluice(three_frontends(a.addr, names=("one", "two")), fds={"FE1": fe(), "FE2": fe()})
    p1, p2 = sl.ports["FE1"], sl.ports["FE2"]
    taken = listen_socket()  # the test holds this port: sluice's bind must fail with EADDRINUSE
    busy = taken.getsockname()[1]
    free = _free_port()  # picked while `busy` is held, so never the same port
    try:
        # The new file drops `two`, moves s1 to B, adds one frontend on a free port (bound first) and one on
        # the taken port: the reload must fail as a whole.
        sl.write_config(base_config() + f"""
frontend one
    bind "fd@${{FE1}}"
    default_backend be

frontend fresh
    bind 127.0.0.1:{free}
    default_backend be

frontend clash
    bind 127.0.0.1:{busy}
    default_backend be

backend be
    server s1 {b.addr}
""")
        line = sl.reload(expect="failed")
        assert f"127.0.0.1:{busy}" in line and "clash" in line, f"the failure names the frontend and address: {line}"
        assert hello(p1) == b"A\n" and hello(p2) == b"A\n", "old frontends and server A must still serve"
        assert refused_now(free), f"port {free}, bound during the failed reload, must be closed again"
        # The same file, once the port is free, reloads fine (so the failure really was the bind).
        taken.close()
        line = sl.reload()
        assert summary(line)["frontends"] == (2, 1, 1), line
        assert hello(p1) == b"B\n" and hello(free) == b"B\n" and hello(busy) == b"B\n"
    finally:
        taken.close()


# --------------------------------------------------------------------------------------------------------------
# Server state across a reload (until health checks exist: connection slots and the queue)
# --------------------------------------------------------------------------------------------------------------

QUEUE_BUG = ("daemon bug: after a reload, sessions already queued on a backend are not re-dispatched; they wait for "
             "a slot to free on a server of the new backend (never, if their server was replaced) or `timeout queue`")


def queue_cfg(server_line: str, comment: str = "") -> str:
    return base_config() + f"""
listen app
    bind "fd@${{FE1}}"
    timeout queue 10s
    {comment}
    {server_line}
"""


def open_and_echo(port: int, tag: bytes) -> socket.socket:
    c = connect(port, timeout=10)
    c.sendall(tag)
    return c


def test_kept_server_keeps_its_connection_slots_across_reload(sluice, backends, fe):
    """s1 maxconn 1 with one connection in it and one queued: after a reload that keeps s1 (same backend, name,
    address), s1 is still full: a new connection queues instead of reaching the backend, then all are served in
    order. A server whose slot count were reset by the reload would let a second connection through at once."""
    be = backends.echo()
    sl = sluice(queue_cfg(f"server s1 {be.addr} maxconn 1"), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    c1 = open_and_echo(port, b"c1\n")
    assert recv_exact(c1, 3) == b"c1\n"
    c2 = open_and_echo(port, b"c2\n")
    assert not wait_for(lambda: be.accepted > 1, 0.3, be.cond), "c2 must wait in the queue (maxconn 1)"
    sl.write_config(queue_cfg(f"server s1 {be.addr} maxconn 1", comment="# reloaded"))
    line = sl.reload()
    assert summary(line)["servers"] == (0, 0, 0, 1), f"s1 is kept (=1): {line}"
    c3 = open_and_echo(port, b"c3\n")
    assert not wait_for(lambda: be.accepted > 1, 0.5, be.cond), \
        "after the reload s1 must still count c1's slot: c3 (or c2) reached the backend while c1 is open"
    c1.close()
    assert recv_exact(c2, 3) == b"c2\n", "c2 (queued before the reload) is served when c1 leaves"
    c2.close()
    assert recv_exact(c3, 3) == b"c3\n"
    c3.close()
    assert be.max_current == 1, f"s1 maxconn 1 exceeded across the reload: {be.max_current} at once"


def test_reload_summary_kept_changed_and_replaced_servers(sluice, backends, fe):
    a, b = backends.echo("A"), backends.echo("B")
    sl = sluice(queue_cfg(f"server s1 {a.addr}"), fds={"FE1": fe()})
    sl.write_config(queue_cfg(f"server s1 {a.addr}", comment="# same"))
    assert summary(sl.reload())["servers"] == (0, 0, 0, 1), "same name and address: kept"
    sl.write_config(queue_cfg(f"server s1 {a.addr} weight 7"))
    assert summary(sl.reload())["servers"] == (0, 0, 1, 0), "same name and address, other options: changed (~1)"
    sl.write_config(queue_cfg(f"server s1 {b.addr} weight 7"))
    assert summary(sl.reload())["servers"] == (1, 1, 0, 0), "same name, new address: a new server (+1 -1)"
    sl.write_config(queue_cfg(f"server s2 {b.addr} weight 7"))
    assert summary(sl.reload())["servers"] == (1, 1, 0, 0), "new name, same address: a new server (+1 -1)"
    assert echo_roundtrip(sl.ports["FE1"], b"x\n") == b"x\n"
    assert b.accepted == 1 and a.accepted == 0


def test_queued_session_is_served_when_a_reload_adds_room(sluice, backends, fe):
    """A session queued behind a full server must get a server as soon as a reload gives the backend room (a
    higher maxconn on the kept server), not only when the next slot frees or at `timeout queue`."""
    be = backends.echo()
    sl = sluice(queue_cfg(f"server s1 {be.addr} maxconn 1"), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    c1 = open_and_echo(port, b"c1\n")
    assert recv_exact(c1, 3) == b"c1\n"
    c2 = open_and_echo(port, b"c2\n")
    assert not wait_for(lambda: be.accepted > 1, 0.3, be.cond), "c2 must wait in the queue (maxconn 1)"
    sl.write_config(queue_cfg(f"server s1 {be.addr} maxconn 2"))
    sl.reload()
    try:
        assert recv_exact(c2, 3, timeout=2) == b"c2\n", "queued c2 not served after the reload raised maxconn"
    finally:
        c1.close()
        c2.close()


def test_queued_session_moves_to_the_server_that_replaced_a_full_one(sluice, backends, fe):
    """s1 full (maxconn 1) with c2 queued; a reload gives s1 a new address (a new, empty server): c2 must be
    served by the new server promptly, not left waiting for a slot on the removed one or for `timeout queue`."""
    a, b = backends.tag("A", then="echo"), backends.tag("B", then="echo")
    sl = sluice(queue_cfg(f"server s1 {a.addr} maxconn 1"), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    c1 = connect(port, timeout=10)
    assert recv_exact(c1, 2) == b"A\n"
    c2 = connect(port, timeout=10)
    assert not wait_for(lambda: a.accepted > 1 or b.accepted > 0, 0.3, None), "c2 must be queued"
    sl.write_config(queue_cfg(f"server s1 {b.addr} maxconn 1"))
    line = sl.reload()
    assert summary(line)["servers"] == (1, 1, 0, 0), line
    try:
        assert recv_exact(c2, 2, timeout=2) == b"B\n", "queued c2 not served by the new s1 after the reload"
    finally:
        c1.close()
        c2.close()
