"""`make install DESTDIR=<tmp>` (issue 5, item 5): the binary, the unit with its paths rewritten to PREFIX, the
sample `/etc/sluice/sluice.cfg`, the README; an existing config is never overwritten. Runs the recipe only
(`-o build -o deps`: the binary under test is SLUICE_BIN, nothing is rebuilt or apt-installed), always with a
DESTDIR (without one, install would also create the `sluice` system user)."""

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, SLUICE_BIN

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")


def make_install(destdir: Path, prefix: str | None = None) -> subprocess.CompletedProcess:
    assert str(destdir).startswith("/tmp") or "pytest" in str(destdir), f"refusing DESTDIR {destdir}"
    cmd = ["make", "-s", "-C", str(REPO), "-o", "build", "-o", "deps", "install", f"DESTDIR={destdir}",
           f"SLUICE_BIN={SLUICE_BIN}"]
    if prefix:
        cmd.append(f"PREFIX={prefix}")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"{' '.join(cmd)}: exit {r.returncode}\n{r.stdout}{r.stderr}"
    return r


def mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


@pytest.mark.parametrize("prefix", [None, "/opt/sluice"], ids=["default-prefix", "PREFIX=/opt/sluice"])
def test_make_install_puts_everything_in_place(tmp_path, sluice_bin, prefix):
    dest = tmp_path / "root"
    make_install(dest, prefix)
    pre = prefix or "/usr/local"
    binary = dest / pre.lstrip("/") / "sbin" / "sluice"
    assert binary.read_bytes() == Path(SLUICE_BIN).read_bytes(), f"{binary} is not the built binary"
    assert mode(binary) == 0o755, oct(mode(binary))
    unit = dest / "lib/systemd/system/sluice.service"
    assert mode(unit) == 0o644, oct(mode(unit))
    text = unit.read_text()
    assert f"ExecStart={pre}/sbin/sluice -f ${{CONFIG}}" in text, text
    source = (REPO / "systemd/sluice.service").read_text()
    if prefix:
        assert "/usr/local/" not in text, f"a /usr/local path left in the unit for PREFIX={prefix}:\n{text}"
        assert text == source.replace("/usr/local/", f"{prefix}/"), "only the /usr/local paths may change"
    else:
        assert text == source, "with the default PREFIX the unit is installed as shipped"
    # Every file the unit names is one make install put there.
    for path in re.findall(r"(?:file:|=)(/(?:usr|opt)/\S+?)(?=\s|$)", text):
        assert (dest / path.lstrip("/")).exists(), f"the unit names {path}, which make install did not install"
    cfg = dest / "etc/sluice/sluice.cfg"
    assert cfg.read_text() == (REPO / "config/installed.cfg").read_text()
    assert mode(cfg) == 0o644, oct(mode(cfg))
    assert (dest / pre.lstrip("/") / "share/doc/sluice/README.md").exists()


def test_make_install_never_overwrites_an_existing_config(tmp_path, sluice_bin):
    dest = tmp_path / "root"
    make_install(dest)
    cfg = dest / "etc/sluice/sluice.cfg"
    mine = "# the operator's own configuration\n" + cfg.read_text()
    cfg.write_text(mine)
    os.chmod(cfg, 0o600)
    binary = dest / "usr/local/sbin/sluice"
    binary.write_bytes(b"old binary")
    r = make_install(dest)
    assert cfg.read_text() == mine, "make install overwrote an existing /etc/sluice/sluice.cfg"
    assert mode(cfg) == 0o600, "make install changed the existing config's mode"
    assert "keeping existing" in r.stdout + r.stderr, r.stdout + r.stderr
    assert binary.read_bytes() == Path(SLUICE_BIN).read_bytes(), "the binary itself is replaced on reinstall"
