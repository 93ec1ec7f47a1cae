"""The shipped unit `systemd/sluice.service` (issue 5, item 5): `systemd-analyze verify` accepts it (on a copy
rendered to point at the built binary, which verify requires to exist), it says what the contract says (Type=notify,
config checked before start and reload, SIGUSR1 graceful stop, hardening, CAP_NET_BIND_SERVICE), and its
ExecReload= commands, run the way systemd runs them, reload a running sluice (and stop at the check when the
file is invalid, so no SIGHUP is sent)."""

import os
import shlex
import shutil
import subprocess

import pytest

from conftest import REPO, SLUICE_BIN, base_config, echo_roundtrip, wait_for

UNIT = REPO / "systemd" / "sluice.service"
INSTALLED_BIN = "/usr/local/sbin/sluice"


def unit_entries(text: str) -> list[tuple[str, str, str]]:
    """(section, key, value) for every assignment, in order (keys such as ExecReload= repeat)."""
    out, section = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.append((section, key.strip(), value.strip()))
    return out


def values(entries, key: str, section: str = "Service") -> list[str]:
    return [v for s, k, v in entries if s == section and k == key]


def render(tmp_path, binary: str = SLUICE_BIN, extra: str = ""):
    text = UNIT.read_text().replace(INSTALLED_BIN, os.path.abspath(binary)) + extra
    path = tmp_path / "sluice.service"
    path.write_text(text)
    return path


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_unit_passes_systemd_analyze_verify(tmp_path, sluice_bin):
    assert INSTALLED_BIN in UNIT.read_text(), f"the unit must name {INSTALLED_BIN} (make install rewrites it)"
    path = render(tmp_path)
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(path)], capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"systemd-analyze verify exit {r.returncode}:\n{r.stdout}{r.stderr}"
    # verify also reports unknown keys, bad values and unsafe settings without failing: none allowed.
    assert (r.stdout + r.stderr).strip() == "", f"systemd-analyze verify complained:\n{r.stdout}{r.stderr}"


def test_unit_says_what_the_contract_says():
    e = unit_entries(UNIT.read_text())
    one = lambda key: (values(e, key) or [None])[-1]  # noqa: E731
    assert one("Type") == "notify"
    assert one("ExecStart") == f"{INSTALLED_BIN} -f ${{CONFIG}}"
    assert values(e, "ExecStartPre") == [f"{INSTALLED_BIN} -c -q -f ${{CONFIG}}"], "config checked before start"
    reload_cmds = values(e, "ExecReload")
    assert reload_cmds == [f"{INSTALLED_BIN} -c -q -f ${{CONFIG}}", "/bin/kill -HUP $MAINPID"], \
        f"ExecReload= must check the config, then SIGHUP the main pid: {reload_cmds}"
    assert one("KillSignal") == "SIGUSR1" and one("TimeoutStopSec"), "graceful (soft) stop, bounded"
    assert one("WatchdogSec"), "the loop's WATCHDOG=1 is only useful with WatchdogSec="
    for key, want in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                      ("PrivateTmp", "yes"), ("CapabilityBoundingSet", "CAP_NET_BIND_SERVICE"),
                      ("AmbientCapabilities", "CAP_NET_BIND_SERVICE")]:
        assert one(key) == want, f"{key}={one(key)!r}, expected {want!r}"
    assert one("LimitNOFILE") and int(one("LimitNOFILE")) >= 4096, one("LimitNOFILE")
    assert one("User") not in (None, "root", "0"), "runs as an unprivileged user"
    assert any(v.startswith("CONFIG=") for v in values(e, "Environment")), "CONFIG= names the config file"
    assert values(e, "WantedBy", "Install") == ["multi-user.target"]


def systemd_command(cmd: str, config: str, mainpid: int) -> list[str]:
    """A unit command line as systemd would run it here: the binary rendered to the built one, ${CONFIG} and
    $MAINPID substituted."""
    cmd = cmd.replace(INSTALLED_BIN, SLUICE_BIN).replace("${CONFIG}", config).replace("$MAINPID", str(mainpid))
    return shlex.split(cmd)


@pytest.mark.sluice_only("in-process reload on SIGHUP")
def test_exec_start_pre_and_exec_reload_work_as_systemd_runs_them(sluice, backends, fe):
    e = unit_entries(UNIT.read_text())
    be = backends.echo()
    text = base_config() + f"""
listen app
    bind "fd@${{FE1}}"
    server s1 {be.addr}
"""
    cfg = str(sluice.workdir / "sluice0.cfg")
    # The shipped sample config passes ExecStartPre= (what a fresh install starts with).
    for cmd in values(e, "ExecStartPre"):
        r = subprocess.run(systemd_command(cmd, str(REPO / "config" / "installed.cfg"), 0), capture_output=True,
                           text=True, timeout=10, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, f"{cmd} on config/installed.cfg: exit {r.returncode}\n{r.stdout}{r.stderr}"
    listener = fe()
    env = dict(os.environ, FE1=str(listener.fileno()))  # what sluice sees; systemd would set it with Environment=
    sl = sluice(text, fds={"FE1": listener})
    assert str(sl.config_path) == cfg

    def exec_reload() -> int:
        """Runs ExecReload= lines in order, stopping at the first failure (systemd does); returns how many ran."""
        for i, cmd in enumerate(values(e, "ExecReload")):
            r = subprocess.run(systemd_command(cmd, cfg, sl.pid), capture_output=True, text=True, timeout=10,
                               stdin=subprocess.DEVNULL, env=env)
            if r.returncode != 0:
                return i
        return len(values(e, "ExecReload"))

    sl.drain_notify()
    mark = len(sl.notifications)
    assert exec_reload() == 2
    i = sl.wait_notify_from(mark, b"RELOADING=1", 10)
    sl.wait_notify_from(i + 1, b"READY=1", 10)
    sl.wait_output("Reload complete: ")
    # An invalid file: the check fails, systemd stops there, sluice never sees a SIGHUP.
    sl.write_config(text + "    frobnicate\n")
    mark = len(sl.drain_notify())
    assert exec_reload() == 0, "the config check in ExecReload= must fail on an invalid file"
    assert not wait_for(lambda: len(sl.drain_notify()) > mark and any(
        b"RELOADING=1" in d for d in sl.notifications[mark:]), 0.5), "sluice reloaded although the check failed"
    assert echo_roundtrip(sl.ports["FE1"], b"ok\n") == b"ok\n"
