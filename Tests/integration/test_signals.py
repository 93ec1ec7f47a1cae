"""Stopping: SIGUSR1 soft stop (stop listening, finish what is in flight, exit 0) and SIGTERM fast stop."""

import os
import signal
import socket

from conftest import Deadline, base_config, connect, echo_roundtrip, exchange, recv_until_eof, sha, transfer


def listen_cfg(be_addr: str) -> str:
    return base_config() + f"""
listen app
    bind "fd@${{FE1}}"
    server s1 {be_addr}
"""


def wait_refused(port: int, timeout: float) -> None:
    """Connect until the port refuses (ECONNREFUSED). Connections that still succeed are closed at once."""
    dl = Deadline(timeout)
    accepted = timed_out = 0
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
        except ConnectionRefusedError:
            return
        except (ConnectionResetError, TimeoutError):
            # Queued in the accept backlog while the listener was being closed: the kernel resets it (or, if
            # the listener is paused rather than closed, it times out). Not refused yet: try again.
            s = None
            timed_out += 1
        if s is not None:
            s.close()
            accepted += 1
        if dl.expired():
            raise AssertionError(f"port {port} still not refusing {timeout}s after SIGUSR1 ({accepted} connects "
                                 f"succeeded, {timed_out} reset or timed out); expected ECONNREFUSED")


def test_soft_stop_finishes_transfer_and_refuses_new_connections(sluice, backends, fe):
    be = backends.echo()
    # The harness closes the test's own copy of the listening socket once sluice is READY, so after sluice
    # closes its copy the port refuses connections.
    sl = sluice(listen_cfg(be.addr), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    payload = os.urandom(5 * 1024 * 1024)
    first = 1024 * 1024
    with connect(port) as c:
        # 1 MB echoed: the transfer is established and in flight when the signal arrives.
        echoed = exchange(c, payload[:first], timeout=20)
        sl.signal(signal.SIGUSR1)
        wait_refused(port, 5)
        assert sl.alive(), f"sluice exited (rc={sl.proc.returncode}) while a transfer was still in flight"
        # The rest of the transfer: 4 MB more, then half-close, then everything back and EOF.
        rest = transfer(c, payload[first:], timeout=30)
    got = echoed + rest
    assert len(got) == len(payload), f"in-flight transfer: received {len(got)} of {len(payload)} bytes"
    assert sha(got) == sha(payload), "in-flight transfer: bytes differ (sha256) after soft stop"
    sl.expect_clean_exit(10, after="SIGUSR1 and the end of the last transfer")
    be.wait(lambda: be.conns and be.conns[0].closed, 5, "backend connection closed")
    assert be.conns[0].sha.hexdigest() == sha(payload), "backend received different bytes than sent"


def test_soft_stop_idle_exits_at_once(sluice, backends, fe):
    be = backends.echo()
    sl = sluice(listen_cfg(be.addr), fds={"FE1": fe()})
    sl.signal(signal.SIGUSR1)
    sl.expect_clean_exit(5, after="SIGUSR1 with no connection")


def test_sigterm_idle_exits_zero_promptly(sluice, backends, fe):
    be = backends.echo()
    sl = sluice(listen_cfg(be.addr), fds={"FE1": fe()})
    sl.signal(signal.SIGTERM)
    sl.expect_clean_exit(3, after="SIGTERM")


def test_sigint_idle_exits_zero_promptly(sluice, backends, fe):
    be = backends.echo()
    sl = sluice(listen_cfg(be.addr), fds={"FE1": fe()})
    sl.signal(signal.SIGINT)
    sl.expect_clean_exit(3, after="SIGINT")


def test_sighup_does_not_kill(sluice, backends, fe):
    """Until reload exists SIGHUP only logs; either way the daemon keeps serving."""
    be = backends.echo()
    sl = sluice(listen_cfg(be.addr), fds={"FE1": fe()})
    with connect(sl.ports["FE1"]) as c:
        c.sendall(b"before\n")
        sl.signal(signal.SIGHUP)
        # The loop has handled the signalfd by the time it has served these round trips.
        for i in range(3):
            got = echo_roundtrip(sl.ports["FE1"], b"after SIGHUP %d\n" % i)
            assert got == b"after SIGHUP %d\n" % i, f"echo after SIGHUP: got {got!r}"
        c.shutdown(socket.SHUT_WR)
        assert recv_until_eof(c, 5) == b"before\n", "a connection open across SIGHUP must keep working"
    assert sl.alive(), f"SIGHUP killed sluice (rc={sl.proc.returncode})"
