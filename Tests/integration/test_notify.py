"""The systemd notify protocol, on a socket the test owns (issue 5, items 1 and 8): READY=1 once bound (with
STATUS= and MAINPID=), RELOADING=1 + MONOTONIC_USEC= then READY=1 around every reload (a failed one too, whose
STATUS= says so), STATUS= refreshed when it changes, WATCHDOG=1 every WATCHDOG_USEC/2 from the event loop, and
STOPPING=1 last: nothing follows it."""

import re
import signal
import time

import pytest

from conftest import base_config, connect, echo_roundtrip, wait_for

pytestmark = pytest.mark.sluice_only("sd_notify: HAProxy sends nothing outside master-worker mode")

WATCHDOG_USEC = 200_000


def cfg(be_addr: str, extra: str = "") -> str:
    return base_config() + f"""
listen app
    bind "fd@${{FE1}}"
    server s1 {be_addr}
{extra}"""


def fields(datagram: bytes) -> dict[str, str]:
    """`A=1\\nB=x` -> {'A': '1', 'B': 'x'}; every line of a notify datagram is NAME=VALUE."""
    out = {}
    for line in datagram.decode().split("\n"):
        assert "=" in line, f"notify line without '=': {line!r} in {datagram!r}"
        k, v = line.split("=", 1)
        out[k] = v
    return out


def names(datagrams: list[bytes]) -> list[str]:
    """The event each datagram carries, in order: READY, RELOADING, STOPPING, WATCHDOG or STATUS (alone)."""
    out = []
    for d in datagrams:
        f = fields(d)
        for key in ("READY", "RELOADING", "STOPPING", "WATCHDOG"):
            if key in f:
                assert f[key] == "1", f"{key}={f[key]!r} in {d!r}"
                out.append(key)
                break
        else:
            assert set(f) == {"STATUS"}, f"unexpected notify datagram {d!r}"
            out.append("STATUS")
    return out


def count_watchdogs(sl, at_least: int, timeout: float) -> None:
    def enough():
        sl.drain_notify()
        return names(sl.notifications).count("WATCHDOG") >= at_least
    assert wait_for(enough, timeout), f"fewer than {at_least} WATCHDOG=1 in {timeout}s: {sl.notifications}"


def test_notify_sequence_ready_reload_status_watchdog_stopping(sluice, backends, fe):
    be = backends.echo()
    sl = sluice(cfg(be.addr), fds={"FE1": fe()}, extra_env={"WATCHDOG_USEC": str(WATCHDOG_USEC)})
    first = fields(sl.notifications[0])
    assert "READY" in first, f"the first datagram must be READY=1: {sl.notifications}"
    assert first.get("MAINPID") == str(sl.pid), f"MAINPID must be sluice's pid {sl.pid}: {first}"
    assert re.match(r"0 connections, 1 frontends, 1 backends", first.get("STATUS", "")), first

    # WATCHDOG=1 every 100 ms: 3 of them arrive well within 2 s (each sent by the loop's own timer).
    count_watchdogs(sl, 3, 2.0)

    # A successful reload: RELOADING=1 with CLOCK_MONOTONIC in microseconds at the reload's start, then READY=1.
    sl.drain_notify()
    mark = len(sl.notifications)
    before_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    sl.reload()
    after_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    new = sl.notifications[mark:]
    reloading = [fields(d) for d in new if "RELOADING" in fields(d)]
    assert len(reloading) == 1, f"one RELOADING=1 per reload: {new}"
    usec = reloading[0].get("MONOTONIC_USEC", "")
    assert usec.isdigit(), f"MONOTONIC_USEC must be an integer: {reloading[0]}"
    assert before_us <= int(usec) <= after_us, \
        f"MONOTONIC_USEC={usec} outside [{before_us}, {after_us}] (CLOCK_MONOTONIC around the SIGHUP)"
    seq = [n for n in names(new) if n not in ("WATCHDOG", "STATUS")]
    assert seq == ["RELOADING", "READY"], f"reload sequence: {names(new)}"
    ready = [fields(d) for d in new if "READY" in fields(d)][0]
    assert "last reload ok" in ready.get("STATUS", ""), f"READY after a reload carries its STATUS: {ready}"

    # STATUS= follows the connection count (refreshed with the watchdog when it changed).
    with connect(sl.ports["FE1"]) as c:
        c.sendall(b"x")
        assert c.recv(1) == b"x"
        assert wait_for(lambda: any(fields(d).get("STATUS", "").startswith("1 connections")
                                    for d in sl.drain_notify()[mark:]), 3), \
            f"no STATUS=1 connections... while a connection was open: {sl.notifications[mark:]}"

    count_watchdogs(sl, names(sl.notifications).count("WATCHDOG") + 2, 2.0)
    sl.signal(signal.SIGTERM)
    sl.expect_clean_exit(5, after="SIGTERM")
    sl.drain_notify()  # the process is gone: everything it sent is queued
    seq = names(sl.notifications)
    assert seq[0] == "READY" and seq[-1] == "STOPPING", f"READY first, STOPPING last: {seq}"
    assert seq.count("STOPPING") == 1, f"one STOPPING=1: {seq}"
    assert seq.count("READY") == 2 and seq.count("RELOADING") == 1, seq
    assert seq.count("WATCHDOG") >= 5, seq


def test_failed_reload_still_sends_reloading_then_ready_with_failed_status(sluice, backends, fe):
    be = backends.echo()
    sl = sluice(cfg(be.addr), fds={"FE1": fe()})
    sl.write_config(cfg(be.addr, "    frobnicate yes\n"))
    sl.drain_notify()
    mark = len(sl.notifications)
    line = sl.reload(expect="failed")
    assert "still serving the previous configuration" in line, line
    new = sl.notifications[mark:]
    assert [n for n in names(new) if n != "STATUS"] == ["RELOADING", "READY"], names(new)
    ready = [fields(d) for d in new if "READY" in fields(d)][0]
    assert "last reload FAILED" in ready.get("STATUS", ""), f"STATUS must report the failed reload: {ready}"
    # Still serving the old configuration.
    assert echo_roundtrip(sl.ports["FE1"], b"still here\n") == b"still here\n"
    # A good reload afterwards clears the failure from STATUS.
    sl.write_config(cfg(be.addr))
    mark = len(sl.notifications)
    sl.reload()
    ready = [fields(d) for d in sl.notifications[mark:] if "READY" in fields(d)][0]
    assert "last reload ok" in ready.get("STATUS", ""), ready


@pytest.mark.parametrize("env", [{}, {"WATCHDOG_PID": "1"}], ids=["no-WATCHDOG_USEC", "WATCHDOG_PID-other"])
def test_no_watchdog_unless_asked_for_this_pid(sluice, backends, fe, env):
    """Without WATCHDOG_USEC, or when WATCHDOG_PID names another process, sluice sends no WATCHDOG=1."""
    be = backends.echo()
    if env:
        env = {"WATCHDOG_USEC": str(WATCHDOG_USEC), **env}
    sl = sluice(cfg(be.addr), fds={"FE1": fe()}, extra_env=env)
    # 5 watchdog periods: with the watchdog on, at least 4 would have arrived.
    wait_for(lambda: "WATCHDOG" in names(sl.drain_notify()), 5 * WATCHDOG_USEC / 1e6)
    assert "WATCHDOG" not in names(sl.notifications), f"unexpected WATCHDOG=1 ({env}): {sl.notifications}"


def test_watchdog_pid_equal_to_sluice_enables_it(sluice, backends, fe):
    """WATCHDOG_PID names the process meant to ping; sluice's own pid (set by an exec wrapper) enables it."""
    be = backends.echo()
    sl = sluice(cfg(be.addr), fds={"FE1": fe()}, extra_env={"WATCHDOG_USEC": str(WATCHDOG_USEC)},
                prefix=["/bin/sh", "-c", 'WATCHDOG_PID=$$ exec "$0" "$@"'])
    count_watchdogs(sl, 2, 2.0)


def test_stopping_is_last_on_soft_stop(sluice, backends, fe):
    """SIGUSR1 (the unit's KillSignal): STOPPING=1, then no WATCHDOG=1 or anything else."""
    be = backends.echo()
    sl = sluice(cfg(be.addr), fds={"FE1": fe()}, extra_env={"WATCHDOG_USEC": str(WATCHDOG_USEC)})
    count_watchdogs(sl, 2, 2.0)
    sl.signal(signal.SIGUSR1)
    sl.expect_clean_exit(5, after="SIGUSR1")
    seq = names(sl.drain_notify())
    assert seq[-1] == "STOPPING" and seq.count("STOPPING") == 1, seq
