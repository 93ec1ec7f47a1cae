"""Connection limits: global and frontend `maxconn` pause accepting (the excess waits in the kernel backlog);
server `maxconn` queues sessions in the backend and serves them in order."""

import os
import resource
import select
import time

import pytest

from conftest import Deadline, base_config, connect, echo_roundtrip, recv_exact

NEGATIVE_WAIT = 0.5  # how long we watch for something that must NOT happen (an extra connection being served)


def msg(i: int) -> bytes:
    return b"client %02d\n" % i


class Clients:
    """N client connections, each sent msg(i) at once; tracks which ones got their echo back ("served")."""

    def __init__(self, port: int, n: int):
        self.socks = []
        for i in range(n):
            # The kernel completes the handshake from the backlog even while the proxy is not accepting.
            c = connect(port, timeout=5)
            c.sendall(msg(i))
            self.socks.append(c)
        self.served: list[int] = []  # in the order the echoes were seen
        self.released: list[int] = []

    def unserved(self) -> list[int]:
        return [i for i in range(len(self.socks)) if i not in self.served]

    def poll(self, timeout: float) -> list[int]:
        """Wait up to `timeout` for echoes on unserved clients; returns those newly served."""
        pending = {self.socks[i]: i for i in self.unserved()}
        if not pending:
            return []
        r, _, _ = select.select(list(pending), [], [], timeout)
        new = []
        for s in r:
            i = pending[s]
            got = recv_exact(s, len(msg(i)), timeout=5)
            assert got == msg(i), f"client {i}: expected its own echo {msg(i)!r}, got {got!r}"
            self.served.append(i)
            new.append(i)
        return new

    def wait_served(self, count: int, timeout: float) -> None:
        dl = Deadline(timeout)
        while len(self.served) < count:
            if dl.expired():
                raise AssertionError(f"only {len(self.served)} clients served after {timeout}s, expected {count} "
                                     f"(served: {self.served})")
            self.poll(dl.left())

    def release_oldest(self) -> int:
        i = next(i for i in self.served if i not in self.released)
        self.socks[i].close()  # everything it received was read: a FIN, not an RST
        self.released.append(i)
        return i

    def in_service(self) -> int:
        return len(self.served) - len(self.released)

    def close(self):
        for s in self.socks:
            s.close()


def check_limit_holds(sl, be, limit: int, total: int = 20, in_order: bool = False):
    clients = Clients(sl.ports["FE1"], total)
    try:
        clients.wait_served(limit, 5)
        clients.poll(NEGATIVE_WAIT)  # anything beyond the limit would show up here
        assert len(clients.served) <= limit, (
            f"limit {limit}: {len(clients.served)} of {total} clients were served before any was released "
            f"(served {clients.served})")
        assert be.max_current <= limit, f"backend saw {be.max_current} concurrent connections, limit {limit}"
        while len(clients.served) < total:
            gone = clients.release_oldest()
            before = len(clients.served)
            clients.wait_served(before + 1, 5)
            assert clients.in_service() <= limit, (
                f"after releasing client {gone}, {clients.in_service()} clients are being served at once, "
                f"limit {limit} (served order {clients.served}, released {clients.released})")
            assert be.max_current <= limit, (
                f"backend saw {be.max_current} concurrent connections, limit {limit} (after releasing {gone})")
        if in_order:
            assert clients.served == list(range(total)), \
                f"queued clients must be served in arrival order, got {clients.served}"
    finally:
        clients.close()
    be.wait(lambda: be.current == 0, 10, "all backend connections closed")
    assert be.accepted == total, f"backend accepted {be.accepted} connections, expected {total}"
    assert be.max_current <= limit, f"backend saw {be.max_current} concurrent connections, limit {limit}"
    assert sl.alive()


def test_frontend_maxconn_holds(sluice, backends, fe):
    be = backends.echo()
    # backlog 64: the pending clients must fit in the kernel's accept queue (HAProxy otherwise sizes the
    # backlog from maxconn and the kernel drops the excess SYNs, which clients retry only after 1 s, 3 s ...).
    cfg = base_config() + f"""
frontend fe
    bind "fd@${{FE1}}" backlog 64
    maxconn 5
    default_backend be

backend be
    server s1 {be.addr}
"""
    sl = sluice(cfg, fds={"FE1": fe()})
    check_limit_holds(sl, be, 5)


def test_global_maxconn_holds(sluice, backends, fe):
    be = backends.echo()
    cfg = base_config(maxconn=5) + f"""
frontend fe
    bind "fd@${{FE1}}" backlog 64
    default_backend be

backend be
    server s1 {be.addr}
"""
    sl = sluice(cfg, fds={"FE1": fe()})
    check_limit_holds(sl, be, 5)


def test_server_maxconn_queues_in_order(sluice, backends, fe):
    be = backends.echo()
    cfg = base_config() + f"""
listen app
    bind "fd@${{FE1}}"
    timeout queue 10s
    server s1 {be.addr} maxconn 2
"""
    sl = sluice(cfg, fds={"FE1": fe()})
    check_limit_holds(sl, be, 2, total=6, in_order=True)


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _sockets(pid: int) -> list[str]:
    links = []
    for n in os.listdir(f"/proc/{pid}/fd"):
        try:
            links.append(os.readlink(f"/proc/{pid}/fd/{n}"))
        except FileNotFoundError:
            pass  # closed while we looked
    return [link for link in links if link.startswith("socket:")]


def _wait_only_listener_socket(pid: int) -> None:
    dl = Deadline(5)
    while len(_sockets(pid)) != 1:
        assert not dl.expired(), f"sluice still holds sockets {_sockets(pid)} besides its listener"
        time.sleep(0.01)  # bounded polling of /proc: there is no event to wait for


def _lowest_free_fd(pid: int) -> int:
    used = {int(n) for n in os.listdir(f"/proc/{pid}/fd")}
    fd = 0
    while fd in used:
        fd += 1
    return fd


@pytest.mark.sluice_only("log line and fd-limit behaviour are sluice's")
def test_fd_exhaustion_pauses_listener_without_spinning(sluice, backends, fe):
    """Out of descriptors (accept fails with EMFILE while clients wait), the listener pauses on a timer instead
    of spinning on accept(); once fds free up, the clients that waited in the backlog are served."""
    be = backends.echo()
    cfg = base_config() + f"""
frontend fe
    bind "fd@${{FE1}}" backlog 256
    default_backend be

backend be
    server s1 {be.addr}
"""
    sl = sluice(cfg, fds={"FE1": fe()})
    port = sl.ports["FE1"]
    established = [connect(port) for _ in range(5)]
    for i, c in enumerate(established):
        c.sendall(b"hold %d\n" % i)
        assert recv_exact(c, len(b"hold %d\n" % i)) == b"hold %d\n" % i
    # Lower sluice's soft open-files limit to its lowest free descriptor: any new fd now fails with EMFILE.
    soft, hard = resource.prlimit(sl.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(sl.pid, resource.RLIMIT_NOFILE, (_lowest_free_fd(sl.pid), hard))
    waiting = Clients(port, 5)
    try:
        sl.wait_output("reached a system limit", timeout=10)
        # The clients wait in the kernel backlog; sluice must be (nearly) idle meanwhile: a spinning accept
        # loop would burn a whole core during this window.
        before = _cpu_seconds(sl.pid)
        waiting.poll(1.0)
        used = _cpu_seconds(sl.pid) - before
        assert used < 0.5, f"sluice used {used:.2f}s of CPU in 1s while out of descriptors: it is spinning"
        assert waiting.served == [], f"clients {waiting.served} were served although no fd was free"
        resource.prlimit(sl.pid, resource.RLIMIT_NOFILE, (soft, hard))
        waiting.wait_served(5, 10)
    finally:
        waiting.close()
        for c in established:
            c.close()
    assert echo_roundtrip(port, b"after\n") == b"after\n"
    alerts = sl.stderr().count("reached a system limit")
    assert alerts <= 3, f"the EMFILE alert must be logged once per pause, not per attempt ({alerts} lines)"


@pytest.mark.sluice_only("fd-limit behaviour is sluice's")
def test_fd_exhaustion_on_server_socket_retries_instead_of_dropping(sluice, backends, fe):
    """accept() got the last descriptor, so socket() for the server side fails with EMFILE: the session is
    retried after the turn-around delay (HAProxy's resource error), not dropped, and is served once fds free."""
    be = backends.echo()
    cfg = base_config() + f"""
frontend fe
    bind "fd@${{FE1}}"
    default_backend be

backend be
    retries 3
    server s1 {be.addr}
"""
    sl = sluice(cfg, fds={"FE1": fe()})
    port = sl.ports["FE1"]
    soft, hard = resource.prlimit(sl.pid, resource.RLIMIT_NOFILE)
    # One free descriptor below the limit: the accepted client takes it, the server socket has none.
    # sd_notify's socket for READY=1 may still be open when READY arrives: wait until the listener is the only
    # socket sluice holds, so the descriptor set is known.
    _wait_only_listener_socket(sl.pid)
    resource.prlimit(sl.pid, resource.RLIMIT_NOFILE, (_lowest_free_fd(sl.pid) + 1, hard))
    c = connect(port)
    try:
        c.sendall(b"patience\n")
        sl.wait_output("cannot create a socket for server", timeout=10)
        resource.prlimit(sl.pid, resource.RLIMIT_NOFILE, (soft, hard))
        assert recv_exact(c, len(b"patience\n"), timeout=10) == b"patience\n"
    finally:
        c.close()
    assert be.accepted == 1
