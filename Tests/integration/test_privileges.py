"""Identity (issue 5, item 5): started as root, global `user`/`group` drop privileges after every listener is
bound and keep only CAP_NET_BIND_SERVICE, so a reload can still bind a port below 1024; `chroot` confines the
process and a reload reads the configuration at the same path inside the chroot. Needs root (skipped otherwise).
"""

import os
import pwd
import grp
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from conftest import base_config, connect, echo_roundtrip, recv_exact

pytestmark = [
    pytest.mark.sluice_only("privilege drop checked through /proc and reload on SIGHUP"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root: privilege drop and chroot start as root"),
]

CAP_NET_BIND_SERVICE = 1 << 10


def proc_status(pid: int) -> dict[str, str]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def free_low_port() -> int:
    """A port below 1024 that nothing uses on 127.0.0.1 (as root the test may bind it to check)."""
    for port in range(1023, 899, -1):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    pytest.skip("no free port between 900 and 1023 on 127.0.0.1")


@pytest.fixture
def public_dir():
    """A directory the unprivileged user can read (the test's tmp_path is root-only): the config lives here so
    that a reload, after the drop, can read it."""
    d = tempfile.mkdtemp(prefix="sl-cfg-", dir="/tmp")
    os.chmod(d, 0o755)
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


def app_cfg(be_addr: str, global_extra: str = "", extra: str = "") -> str:
    return base_config(global_extra=global_extra) + f"""
listen app
    bind "fd@${{FE1}}"
    server s1 {be_addr}
{extra}"""


def test_user_group_drop_keeps_only_net_bind_service(sluice, backends, fe, public_dir):
    be = backends.echo()
    nobody, nogroup = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    cfg = public_dir / "sluice.cfg"
    cfg.write_text(app_cfg(be.addr, "    user nobody\n    group nogroup\n"))
    os.chmod(cfg, 0o644)
    sl = sluice(None, config_files=[cfg], fds={"FE1": fe()}, notify_access=True)
    st = proc_status(sl.pid)
    assert st["Uid"].split() == [str(nobody)] * 4, f"Uid (real, effective, saved, fs): {st['Uid']}"
    assert st["Gid"].split() == [str(nogroup)] * 4, f"Gid: {st['Gid']}"
    assert st["Groups"].split() in ([], [str(nogroup)]), f"supplementary groups must be dropped: {st['Groups']}"
    assert int(st["CapEff"], 16) == CAP_NET_BIND_SERVICE, f"CapEff {st['CapEff']}, want 0000000000000400"
    assert int(st["CapPrm"], 16) == CAP_NET_BIND_SERVICE, f"CapPrm {st['CapPrm']}, want 0000000000000400"
    assert int(st["CapInh"], 16) & ~CAP_NET_BIND_SERVICE == 0, f"CapInh {st['CapInh']}"
    assert int(st.get("CapAmb", "0"), 16) & ~CAP_NET_BIND_SERVICE == 0, f"CapAmb {st.get('CapAmb')}"
    assert echo_roundtrip(sl.ports["FE1"], b"as nobody\n") == b"as nobody\n"

    # A reload adding a port below 1024: bind() needs CAP_NET_BIND_SERVICE, which the drop kept.
    low = free_low_port()
    sl.write_config(app_cfg(be.addr, "    user nobody\n    group nogroup\n", f"""
frontend privileged
    bind 127.0.0.1:{low}
    default_backend app
"""))
    line = sl.reload()
    assert "listeners +1 -0 =1" in line, line
    assert echo_roundtrip(low, b"low port\n") == b"low port\n"
    assert int(proc_status(sl.pid)["CapEff"], 16) == CAP_NET_BIND_SERVICE, "capabilities changed by the reload"


def test_user_change_on_reload_requires_a_restart(sluice, backends, fe, public_dir):
    be = backends.echo()
    cfg = public_dir / "sluice.cfg"
    cfg.write_text(app_cfg(be.addr, "    user nobody\n    group nogroup\n"))
    os.chmod(cfg, 0o644)
    sl = sluice(None, config_files=[cfg], fds={"FE1": fe()}, notify_access=True)
    sl.write_config(app_cfg(be.addr, "    user root\n    group nogroup\n"))
    line = sl.reload(expect="failed")
    assert "'user'" in line and "requires a restart" in line, line
    assert proc_status(sl.pid)["Uid"].split()[1] == str(pwd.getpwnam("nobody").pw_uid)


def chroot_setup(tmp_path: Path, text: str) -> tuple[Path, Path]:
    """The config at an absolute path outside, and a copy at the same path inside the chroot directory."""
    root = tmp_path / "root"
    root.mkdir()
    cfg = tmp_path / "sluice.cfg"
    cfg.write_text(text.replace("@ROOT@", str(root)))
    inside = Path(str(root) + str(cfg))
    inside.parent.mkdir(parents=True)
    inside.write_text(cfg.read_text())
    return root, cfg


def test_chroot_confines_and_reload_reads_the_config_inside(sluice, backends, fe, tmp_path):
    a, b = backends.tag("A"), backends.tag("B")
    text = app_cfg(a.addr, "    chroot @ROOT@\n")
    root, cfg = chroot_setup(tmp_path, text)
    sl = sluice(None, config_files=[cfg], fds={"FE1": fe()}, notify_chroot=str(root))
    assert os.readlink(f"/proc/{sl.pid}/root") == str(root), "sluice is not chrooted"
    with connect(sl.ports["FE1"]) as c:
        assert recv_exact(c, 2) == b"A\n"
    # The reload reads <root>/<same path>: only that copy switches to server B.
    inside = Path(str(root) + str(cfg))
    inside.write_text(app_cfg(b.addr, f"    chroot {root}\n"))
    sl.reload()
    with connect(sl.ports["FE1"]) as c:
        assert recv_exact(c, 2) == b"B\n", "the reload did not read the config inside the chroot"


def test_chroot_still_notifies_systemd(sluice, backends, fe, tmp_path):
    """Under systemd, NOTIFY_SOCKET (/run/systemd/notify) does not exist inside the chroot: READY=1 must still
    arrive (the start would otherwise time out)."""
    a = backends.tag("A")
    root, cfg = chroot_setup(tmp_path, app_cfg(a.addr, "    chroot @ROOT@\n"))
    sl = sluice(None, config_files=[cfg], fds={"FE1": fe()}, wait_ready=False)
    sl.wait_notify(b"READY=1", 3)
