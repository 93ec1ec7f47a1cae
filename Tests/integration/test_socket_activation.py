"""Socket activation (issue 5, item 2): listening sockets passed the way systemd passes them (fds 3, 4, ... with
LISTEN_FDS, LISTEN_PID = sluice's pid, LISTEN_FDNAMES) are matched to `bind` lines by their bound address, or named
directly with `fd@N`; sluice serves on those very sockets (same inode, never rebinds), keeps them across a reload,
reports and closes an inherited socket that no bind line matches. Also through `systemd-socket-activate`, which
binds, waits for the first connection and execs sluice in its own process."""

import os
import shutil
import socket

import pytest

from conftest import (SLUICE_BIN, base_config, connect, echo_roundtrip, free_ports, listen_socket, recv_exact,
                      wait_for, wait_until)

pytestmark = pytest.mark.sluice_only("LISTEN_FDS handling is sluice's (HAProxy ignores it)")


def inode(s: socket.socket) -> int:
    return os.fstat(s.fileno()).st_ino


def fd_inode(pid: int, fd: int) -> str:
    return os.readlink(f"/proc/{pid}/fd/{fd}")


def refused(port: int, timeout: float = 5.0) -> bool:
    def check():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return False
        except ConnectionRefusedError:
            return True
    return wait_for(check, timeout)


def two_frontends(addr_a: str, addr_b: str, be_a: str, be_b: str) -> str:
    return base_config() + f"""
frontend web
    bind {addr_a}
    default_backend a

frontend admin
    bind {addr_b}
    default_backend b

backend a
    server s1 {be_a}

backend b
    server s1 {be_b}
"""


def hello(port: int) -> bytes:
    """First line a tag backend sends through sluice."""
    with connect(port) as c:
        return c.recv(64)


def test_activated_sockets_matched_by_address_and_kept_across_reload(sluice, backends):
    a, b = backends.tag("A"), backends.tag("B")
    s3, s4 = listen_socket(), listen_socket()
    p3, p4 = s3.getsockname()[1], s4.getsockname()[1]
    inodes = {3: f"socket:[{inode(s3)}]", 4: f"socket:[{inode(s4)}]"}
    # Bind lines in the opposite order to the fds: matching is by address, not position. While sluice starts,
    # the test still holds both sockets, so a sluice that bound the addresses itself would fail (EADDRINUSE).
    cfg = two_frontends(f"127.0.0.1:{p4}", f"127.0.0.1:{p3}", a.addr, b.addr)
    sl = sluice(cfg, activated=[s3, s4], fdnames=["web", "admin"])
    assert hello(p4) == b"A\n" and hello(p3) == b"B\n"
    for fd, want in inodes.items():
        assert fd_inode(sl.pid, fd) == want, f"sluice's fd {fd} is not the socket passed as fd {fd}"
    assert "matches no bind line" not in sl.stderr()
    line = sl.reload()
    assert "listeners +0 -0 =2" in line, f"both activated sockets are kept by address: {line}"
    for fd, want in inodes.items():
        assert fd_inode(sl.pid, fd) == want, f"after the reload, fd {fd} is no longer the activated socket"
    assert hello(p4) == b"A\n" and hello(p3) == b"B\n"


def test_unmatched_activated_socket_is_reported_and_closed(sluice, backends):
    a, b = backends.tag("A"), backends.tag("B")
    socks = [listen_socket() for _ in range(3)]
    ports = [s.getsockname()[1] for s in socks]
    cfg = two_frontends(f"127.0.0.1:{ports[0]}", f"127.0.0.1:{ports[1]}", a.addr, b.addr)
    sl = sluice(cfg, activated=socks, fdnames=["web", "admin", "stray"])  # closes the test's copies when READY
    sl.wait_output(f"socket-activated fd 5 (127.0.0.1:{ports[2]}) matches no bind line; closing it")
    assert refused(ports[2]), f"port {ports[2]} (unmatched fd 5) still accepts: sluice kept it open"
    assert not os.path.exists(f"/proc/{sl.pid}/fd/5") or not fd_inode(sl.pid, 5).startswith("socket:"), \
        "fd 5 is still open in sluice"
    assert hello(ports[0]) == b"A\n" and hello(ports[1]) == b"B\n"


def test_fd_at_n_names_an_activated_socket(sluice, backends):
    """`bind fd@4` takes the socket at fd 4 directly, whatever its address; fd 3 is matched by address."""
    a, b = backends.tag("A"), backends.tag("B")
    s3, s4 = listen_socket(), listen_socket()
    p3, p4 = s3.getsockname()[1], s4.getsockname()[1]
    cfg = two_frontends(f"127.0.0.1:{p3}", "fd@4", a.addr, b.addr)
    sl = sluice(cfg, activated=[s3, s4])
    assert hello(p3) == b"A\n" and hello(p4) == b"B\n"
    assert "matches no bind line" not in sl.stderr(), sl.stderr()


def test_activated_socket_closes_when_a_reload_drops_its_bind_line(sluice, backends):
    a, b = backends.tag("A"), backends.tag("B")
    s3, s4 = listen_socket(), listen_socket()
    p3, p4 = s3.getsockname()[1], s4.getsockname()[1]
    sl = sluice(two_frontends(f"127.0.0.1:{p3}", f"127.0.0.1:{p4}", a.addr, b.addr), activated=[s3, s4])
    sl.write_config(base_config() + f"""
frontend web
    bind 127.0.0.1:{p3}
    default_backend a

backend a
    server s1 {a.addr}
""")
    line = sl.reload()
    assert "frontends +0 -1 =1" in line and "listeners +0 -1 =1" in line, line
    assert refused(p4), f"port {p4} still accepts after its frontend was removed"
    assert hello(p3) == b"A\n"


@pytest.mark.skipif(shutil.which("systemd-socket-activate") is None, reason="systemd-socket-activate not installed")
def test_systemd_socket_activate_launches_sluice_on_first_connection(sluice, backends):
    be = backends.echo()
    ports = free_ports(2)  # systemd-socket-activate binds them itself (tiny race, loopback only)
    cfg = base_config() + f"""
listen app
    bind 127.0.0.1:{ports[0]}
    bind 127.0.0.1:{ports[1]}
    server s1 {be.addr}
"""
    ssa = shutil.which("systemd-socket-activate")
    prefix = [ssa, "-l", f"127.0.0.1:{ports[0]}", "-l", f"127.0.0.1:{ports[1]}", "--fdname=one:two",
              "-E", "NOTIFY_SOCKET"]
    sl = sluice(cfg, prefix=prefix, wait_ready=False)
    # systemd-socket-activate execs sluice when the first connection arrives; that connection waits in the
    # backlog and is served by sluice once it runs.
    conns = []

    def connected() -> bool:
        try:
            conns.append(connect(ports[0]))
            return True
        except ConnectionRefusedError:  # not listening yet
            return False
    wait_until(connected, 5, f"systemd-socket-activate listening on 127.0.0.1:{ports[0]}")
    first = conns[0]
    with first:
        first.sendall(b"first\n")
        sl.wait_notify(b"READY=1", 10)
        assert recv_exact(first, 6) == b"first\n"
    assert os.readlink(f"/proc/{sl.pid}/exe") == os.path.realpath(SLUICE_BIN), \
        "systemd-socket-activate must exec sluice in its own process (MAINPID)"
    assert echo_roundtrip(ports[1], b"second\n") == b"second\n"
    assert "matches no bind line" not in sl.stderr(), sl.stderr()
