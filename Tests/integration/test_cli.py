"""Command line: -c (check), -v, several -f, a directory of *.cfg, -d, -p."""

import re
import subprocess
from pathlib import Path

import pytest

from conftest import HAPROXY_MODE, base_config, echo_roundtrip, wait_for


def alert_re(path_pattern: str, line: int) -> re.Pattern:
    """The prefix of an error line. sluice: exactly `[ALERT] parsing [FILE:LINE] : `. HAProxy (validation
    mode) inserts its pid and a context: `[ALERT]    (123) : config : parsing [FILE:LINE] : `."""
    if HAPROXY_MODE:
        return re.compile(r"^\[ALERT\] +\(\d+\) : config : parsing \[" + path_pattern + ":" + str(line) +
                          r"\] : (.*)$", re.M)
    return re.compile(r"^\[ALERT\] parsing \[" + path_pattern + ":" + str(line) + r"\] : (.*)$", re.M)


def find_alert(output: str, path_pattern: str, line: int, keyword: str) -> re.Match:
    for m in alert_re(path_pattern, line).finditer(output):
        if f"'{keyword}'" in m.group(1):
            return m
    pytest.fail(f"expected an error line starting `[ALERT] parsing [{path_pattern}:{line}] : ` naming "
                f"'{keyword}', got output:\n{output}", pytrace=False)


GOOD = base_config() + """
frontend fe
    bind 127.0.0.1:8999
    default_backend be

backend be
    balance roundrobin
    retries 2
    option redispatch
    server s1 127.0.0.1:9001 weight 2 maxconn 10
    server s2 127.0.0.1:9002
"""


def numbered(text: str) -> str:
    return "\n".join(f"{i:3}: {l}" for i, l in enumerate(text.splitlines(), 1))


def test_check_valid_config(sluice, tmp_path):
    cfg = tmp_path / "good.cfg"
    cfg.write_text(GOOD)
    r = sluice.check(cfg)
    assert r.returncode == 0, f"-c on a valid config: expected exit 0, got {r.returncode}\n" \
                              f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}\nconfig:\n{numbered(GOOD)}"
    assert "Configuration file is valid" in r.stdout, \
        f"-c: expected 'Configuration file is valid' on stdout, got stdout:\n{r.stdout}\nstderr:\n{r.stderr}"


def test_check_unknown_keyword(sluice, tmp_path):
    text = GOOD.replace("    default_backend be\n", "    default_backend be\n    frobnicate on\n")
    lineno = text.splitlines().index("    frobnicate on") + 1
    cfg = tmp_path / "bad.cfg"
    cfg.write_text(text)
    r = sluice.check(cfg)
    out = r.stdout + r.stderr
    assert r.returncode == 1, f"-c on an unknown keyword: expected exit 1, got {r.returncode}\noutput:\n{out}"
    find_alert(out, re.escape(str(cfg)), lineno, "frobnicate")
    assert "Configuration file is valid" not in out


def test_check_reports_every_error(sluice, tmp_path):
    text = GOOD.replace("    default_backend be\n", "    default_backend be\n    frobnicate on\n")
    text = text.replace("    retries 2\n", "    retries 2\n    wibble 3\n")
    lines = text.splitlines()
    l1, l2 = lines.index("    frobnicate on") + 1, lines.index("    wibble 3") + 1
    cfg = tmp_path / "two-errors.cfg"
    cfg.write_text(text)
    r = sluice.check(cfg)
    out = r.stdout + r.stderr
    assert r.returncode == 1, f"-c with two errors: expected exit 1, got {r.returncode}\noutput:\n{out}"
    a = find_alert(out, re.escape(str(cfg)), l1, "frobnicate")
    b = find_alert(out, re.escape(str(cfg)), l2, "wibble")
    assert a.start() < b.start(), f"errors must be reported in file order:\n{out}"


@pytest.mark.sluice_only("version string")
def test_version(sluice_bin):
    r = subprocess.run([sluice_bin, "-v"], capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    out = r.stdout + r.stderr
    assert r.returncode == 0, f"-v: expected exit 0, got {r.returncode}\n{out}"
    assert "sluice version" in out, f"-v: expected a line containing 'sluice version', got:\n{out}"


def split_config(tmp_path: Path, be_addr: str) -> tuple[Path, Path]:
    a = tmp_path / "10-base.cfg"
    b = tmp_path / "20-app.cfg"
    a.write_text(base_config())
    b.write_text(f'listen app\n    bind "fd@${{FE1}}"\n    server s1 {be_addr}\n')
    return a, b


def test_several_f_files(sluice, backends, fe, tmp_path):
    be = backends.echo()
    a, b = split_config(tmp_path, be.addr)
    sl = sluice(None, config_files=[a, b], fds={"FE1": fe()})
    got = echo_roundtrip(sl.ports["FE1"], b"two files\n")
    assert got == b"two files\n", f"config split over two -f files: expected echo, got {got!r}"


def test_config_directory(sluice, backends, fe, tmp_path):
    be = backends.echo()
    d = tmp_path / "conf.d"
    d.mkdir()
    # Created in reverse name order on purpose; only *.cfg is loaded.
    (d / "README.txt").write_text("this is not a configuration file\n")
    (d / "20-app.cfg").write_text(f'listen app\n    bind "fd@${{FE1}}"\n    server s1 {be.addr}\n')
    (d / "10-base.cfg").write_text(base_config())
    sl = sluice(None, config_files=[d], fds={"FE1": fe()})
    got = echo_roundtrip(sl.ports["FE1"], b"a directory\n")
    assert got == b"a directory\n", f"config directory: expected echo, got {got!r}"


def test_config_directory_loaded_in_name_order(sluice, tmp_path):
    d = tmp_path / "conf.d"
    d.mkdir()
    # Errors are reported in load order; files are created in reverse name order.
    (d / "notes.txt").write_text("garbage that must not be parsed\n")
    (d / "20-b.cfg").write_text("backend be\n    wibble 3\n    server s1 127.0.0.1:9001\n")
    (d / "10-a.cfg").write_text(base_config() + "frontend fe\n    bind 127.0.0.1:8999\n    frobnicate on\n"
                                "    default_backend be\n")
    line_a = (d / "10-a.cfg").read_text().splitlines().index("    frobnicate on") + 1
    r = sluice.check(d)
    out = r.stdout + r.stderr
    assert r.returncode == 1, f"-c on a directory with errors: expected exit 1, got {r.returncode}\n{out}"
    a = find_alert(out, r"[^\]]*10-a\.cfg", line_a, "frobnicate")
    b = find_alert(out, r"[^\]]*20-b\.cfg", 2, "wibble")
    assert a.start() < b.start(), f"10-a.cfg must be loaded (and reported) before 20-b.cfg:\n{out}"
    assert "notes.txt" not in out and "garbage" not in out, f"a non-.cfg file was loaded:\n{out}"


def test_debug_mode_foreground_logs_connections(sluice, backends, fe):
    be = backends.echo()
    cfg = base_config() + f'listen app\n    bind "fd@${{FE1}}"\n    server s1 {be.addr}\n'
    sl = sluice(cfg, fds={"FE1": fe()}, args=["-d"])
    # HAProxy writes its per-connection debug lines on stdout; sluice on stderr.
    stream = "stdout" if HAPROXY_MODE else "stderr"
    read = sl.stdout if HAPROXY_MODE else sl.stderr
    before = len(read())
    got = echo_roundtrip(sl.ports["FE1"], b"debug me\n")
    assert got == b"debug me\n"
    if not wait_for(lambda: len(read()) > before, 5):
        sl.fail(f"-d: nothing new on {stream} within 5s after a proxied connection")
    assert sl.alive(), "-d must stay in the foreground (the started process exited)"


@pytest.mark.sluice_only("haproxy writes the pidfile only with -D or -W")
def test_pidfile(sluice, backends, fe, tmp_path):
    be = backends.echo()
    pidfile = tmp_path / "sluice.pid"
    cfg = base_config() + f'listen app\n    bind "fd@${{FE1}}"\n    server s1 {be.addr}\n'
    sl = sluice(cfg, fds={"FE1": fe()}, args=["-p", str(pidfile)])
    assert pidfile.exists(), f"-p {pidfile}: no pidfile once READY"
    content = pidfile.read_text().strip()
    assert content == str(sl.pid), f"-p: pidfile holds {content!r}, sluice's pid is {sl.pid}"


def test_sample_config_is_valid(tmp_path):
    """config/sluice.cfg (what `make run` starts) passes `sluice -c` with a certificate like the one make run
    generates."""
    import os
    import subprocess
    from conftest import REPO, SLUICE_BIN
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True)
    pem = tmp_path / "demo.pem"
    pem.write_bytes(crt.read_bytes() + key.read_bytes())
    env = dict(os.environ, DEMO_CERT=str(pem))
    r = subprocess.run([SLUICE_BIN, "-c", "-f", str(REPO / "config" / "sluice.cfg")], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
