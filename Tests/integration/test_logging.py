"""Access logs in TCP mode: `option tcplog` writes one HAProxy-format line per connection to the configured
target; `option dontlognull` drops connections that carried no data."""

import re
import socket

import pytest

from conftest import Deadline, base_config, connect, echo_roundtrip

TCPLOG = re.compile(
    r"127\.0\.0\.1:(\d+) \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] fe be/s1 "
    r"(-?\d+)/(-?\d+)/(\d+) (\d+) (..) (\d+/\d+/\d+/\d+)/\d+ \d+/\d+"
)


def config(be_addr: str, extra: str = "") -> str:
    return base_config() + f"""
frontend fe
    bind "fd@${{FE1}}"
    log stderr format raw local0 info
    option tcplog
{extra}
    default_backend be

backend be
    server s1 {be_addr}
"""


def log_lines(sl) -> list[re.Match]:
    return [m for m in (TCPLOG.search(line) for line in sl.stderr().splitlines()) if m]


@pytest.mark.sluice_only("log destination is stderr of the process under test")
def test_tcplog_line_per_connection(sluice, backends, fe):
    be = backends.echo()
    sl = sluice(config(be.addr), fds={"FE1": fe()})
    assert echo_roundtrip(sl.ports["FE1"], b"x" * 100) == b"x" * 100
    dl = Deadline(5)
    while not log_lines(sl) and not dl.expired():
        sl.wait_output("fe be/s1", timeout=dl.left())
    lines = log_lines(sl)
    assert len(lines) == 1, f"expected one tcplog line:\n{sl.stderr()}"
    m = lines[0]
    assert int(m.group(5)) == 100, f"bytes read from the server: {m.group(0)}"
    assert m.group(6) == "--", f"a normal end is '--': {m.group(0)}"
    assert m.group(7) == "1/1/0/0", f"actconn/feconn count the session, beconn/srv_conn no longer do: {m.group(0)}"


@pytest.mark.sluice_only("log destination is stderr of the process under test")
def test_dontlognull_skips_empty_connections(sluice, backends, fe):
    be = backends.echo()
    sl = sluice(config(be.addr, "    option dontlognull"), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    empty = connect(port)
    empty.shutdown(socket.SHUT_WR)
    assert empty.recv(10) == b""
    empty.close()
    be.wait(lambda: be.current == 0 and be.accepted == 1, 5, "empty connection finished")
    assert echo_roundtrip(port, b"data\n") == b"data\n"
    sl.wait_output("fe be/s1", timeout=5)
    lines = log_lines(sl)
    assert len(lines) == 1 and int(lines[0].group(5)) == 5, f"only the connection with data is logged:\n{sl.stderr()}"
