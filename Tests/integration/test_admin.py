"""The admin socket (`stats socket`): HAProxy's CLI protocol over a unix socket, one command line per connection
or interactive with `prompt`; `help`, `show info|stat|servers state|sess`, `enable|disable server`,
`set server ... state ready|drain|maint`, `set server ... weight`, `set maxconn server`; levels; socat scripts;
drain lets sessions in flight finish while new ones go elsewhere; state set here survives a reload."""

import os
import collections
import signal
import socket
import subprocess

import pytest

from conftest import Deadline, HAPROXY_MODE, wait_until
from httpclient import HttpConn, build_request, http_config
from statsclient import (HAPROXY_CSV_HEADER, SERVERS_STATE_HEADER, cli, num, parse_csv,  # noqa: F401
                         sockdir)


def admin_config(sockdir: str, servers: str, extra_global: str = "", frontend: str = "") -> str:
    g = (f"{extra_global}    stats socket {sockdir}/admin.sock mode 600 level admin\n"
         f"    stats socket {sockdir}/user.sock level user\n")
    return http_config(frontend, {"be": f"balance roundrobin\n{servers}"}, global_extra=g)


def two(s1, s2) -> str:
    return f"server s1 {s1.addr}\nserver s2 {s2.addr}"


def served_by(port: int, n: int, target: str = "/") -> collections.Counter:
    """n requests on one keep-alive connection; which backend answered each."""
    seen = collections.Counter()
    with HttpConn(port) as c:
        for i in range(n):
            r = c.request("GET", f"{target}?i={i}")
            assert r.status == 200, r
            seen[r.header("x-backend")] += 1
    return seen


def servers_state(path: str) -> dict[str, list[str]]:
    text = cli(path, "show servers state")
    lines = text.split("\n")
    assert lines[0] == "1" and lines[1] == SERVERS_STATE_HEADER, text[:300]
    assert text.endswith("\n\n"), "an answer ends with an empty line"
    rows = {}
    for ln in lines[2:]:
        if ln:
            fields = ln.split(" ")
            assert len(fields) == 25, ln
            rows[fields[3]] = fields
    return rows


def test_show_commands_have_haproxys_shape(sluice, backends, fe, sockdir):
    s1, s2 = backends.http("s1"), backends.http("s2")
    sl = sluice(admin_config(sockdir, two(s1, s2)), fds={"FE1": fe()})
    adm = f"{sockdir}/admin.sock"
    assert served_by(sl.ports["FE1"], 4) == {"s1": 2, "s2": 2}

    info = cli(adm, "show info")
    assert info.endswith("\n\n")
    fields = dict(ln.split(": ", 1) for ln in info.split("\n") if ": " in ln)
    assert int(fields["Pid"]) == sl.pid
    assert int(fields["CumReq"]) >= 4 and int(fields["CumConns"]) >= 2
    assert int(fields["CurrConns"]) >= 0 and int(fields["Uptime_sec"]) >= 0
    assert fields["Name"] == ("HAProxy" if HAPROXY_MODE else "sluice")

    stat = cli(adm, "show stat")
    assert stat.split("\n")[0] == HAPROXY_CSV_HEADER and stat.endswith("\n\n")
    _, rows = parse_csv(stat)
    assert num(rows[("be", "s1")], "stot") == 2 and num(rows[("be", "s2")], "stot") == 2
    assert rows[("be", "s1")]["addr"] == s1.addr and rows[("be", "BACKEND")]["algo"] == "roundrobin"
    assert rows[("be", "s1")]["iid"] == rows[("be", "BACKEND")]["iid"] == "3"  # GLOBAL is 1, fe 2

    state = servers_state(adm)
    host, port = s1.addr.split(":")
    assert state["s1"][:10] == ["3", "be", "1", "s1", host, "2", "0", "1", "1", state["s1"][9]]
    assert state["s1"][18] == port
    assert cli(adm, "show servers state be").split("\n")[2].split(" ")[3] == "s1"
    assert cli(adm, "show servers state nope") == "Can't find backend.\n\n"

    helptext = cli(adm, "help")
    assert helptext.startswith("The following commands are valid at this level:\n")
    for usage in ("show stat", "show info", "show servers state [<backend>]", "set server <bk>/<srv>", "prompt",
                  "quit"):
        assert f"\n  {usage}" in helptext, usage
    assert cli(adm, "frobnicate").startswith("Unknown command")
    assert cli(adm, "show cli level") == "admin\n\n"
    # Commands separated by ';' on one line are all answered, each followed by an empty line.
    both = cli(adm, "show cli level;show servers state be")
    assert both.startswith("admin\n\n1\n# be_id ")


def test_one_command_per_connection_without_half_close(sluice, backends, fe, sockdir):
    """VTest-style: the client sends one line and waits; the server answers and closes by itself."""
    s1, s2 = backends.http("s1"), backends.http("s2")
    sluice(admin_config(sockdir, two(s1, s2)), fds={"FE1": fe()})
    out = cli(f"{sockdir}/admin.sock", "show servers state", half_close=False)
    assert out.startswith("1\n# be_id ")


def test_socat_scripts_work(sluice, backends, fe, sockdir):
    s1, s2 = backends.http("s1"), backends.http("s2")
    sluice(admin_config(sockdir, two(s1, s2)), fds={"FE1": fe()})
    adm = f"{sockdir}/admin.sock"

    def socat(script: str) -> str:
        p = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=10)
        assert p.returncode == 0, p.stderr
        return p.stdout

    _, rows = parse_csv(socat(f'echo "show stat" | socat stdio unix-connect:{adm}'))
    assert ("be", "s2") in rows
    assert socat(f'echo "disable server be/s2" | socat stdio {adm}') == "\n"
    _, rows = parse_csv(socat(f'echo "show stat" | socat stdio unix-connect:{adm}'))
    assert rows[("be", "s2")]["status"] == "MAINT"
    out = socat(f"printf 'enable server be/s2\\nshow servers state be\\n' | socat stdio unix-connect:{adm}")
    assert out.startswith("\n1\n# be_id"), out[:100]
    assert socat(f'echo "get weight be/s2" | socat - UNIX-CONNECT:{adm}') == "1 (initial 1)\n\n"


def test_prompt_mode_is_interactive(sluice, backends, fe, sockdir):
    s1, s2 = backends.http("s1"), backends.http("s2")
    sluice(admin_config(sockdir, two(s1, s2)), fds={"FE1": fe()})
    dl = Deadline(5)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(f"{sockdir}/admin.sock")
        buf = bytearray()

        def until_prompt() -> bytes:
            while not buf.endswith(b"\n> "):
                assert not dl.expired(), f"no prompt: {bytes(buf)!r}"
                data = s.recv(65536)
                assert data, f"closed in interactive mode: {bytes(buf)!r}"
                buf.extend(data)
            out = bytes(buf)
            buf.clear()
            return out

        s.sendall(b"prompt\n")
        assert until_prompt() == b"\n> "
        s.sendall(b"show cli level\n")
        assert until_prompt() == b"admin\n\n> "
        s.sendall(b"set server be/s1 state drain\n")
        assert until_prompt() == b"\n> "
        s.sendall(b"show servers state be\n")
        assert until_prompt().startswith(b"1\n# be_id")
        s.sendall(b"quit\n")
        rest = b""
        while True:
            data = s.recv(65536)
            if not data:
                break
            rest += data
        assert rest == b"", rest


def test_levels(sluice, backends, fe, sockdir):
    s1, s2 = backends.http("s1"), backends.http("s2")
    sluice(admin_config(sockdir, two(s1, s2)), fds={"FE1": fe()})
    user = f"{sockdir}/user.sock"
    assert oct(os.stat(f"{sockdir}/admin.sock").st_mode & 0o777) == "0o600"
    assert cli(user, "show cli level") == "user\n\n"
    for command in ("disable server be/s1", "set server be/s1 state drain", "set server be/s1 weight 5",
                    "set maxconn server be/s1 3", "show sess", "operator"):
        assert cli(user, command) == "Permission denied\n\n", command
    _, rows = parse_csv(cli(user, "show stat"))
    assert rows[("be", "s1")]["status"] in ("no check", "UP")
    assert rows[("be", "s1")]["addr"] == "", "addresses are not shown at level user"
    assert servers_state(f"{sockdir}/admin.sock")["s1"][6] == "0", "nothing changed"


def test_error_messages(sluice, backends, fe, sockdir):
    s1, s2 = backends.http("s1"), backends.http("s2")
    sluice(admin_config(sockdir, two(s1, s2)), fds={"FE1": fe()})
    adm = f"{sockdir}/admin.sock"
    expected = {
        "disable server be": "Require 'backend/server'.\n\n",
        "disable server nope/s1": "No such backend.\n\n",
        "enable server be/nope": "No such server.\n\n",
        "set server be/s1 state foo": "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n",
        "set server be/s1 weight": "Require <weight> or <weight%>.\n\n",
        "set server be/s1 weight 300": "Absolute weight can only be between 0 and 256 inclusive.\n\n",
        "set server be/s1 weight abc": "Empty weight string empty or preceded by garbage\n",
        "set maxconn server be/s1": "Require <maxconn>.\n\n",
    }
    for command, answer in expected.items():
        assert cli(adm, command) == answer, command
    assert cli(adm, "set server be/s1").startswith("usage: set server <backend>/<server> ")


def test_disable_enable_and_maint(sluice, backends, fe, sockdir):
    s1, s2 = backends.http("s1"), backends.http("s2")
    sl = sluice(admin_config(sockdir, two(s1, s2)), fds={"FE1": fe()})
    adm, port = f"{sockdir}/admin.sock", sl.ports["FE1"]
    assert cli(adm, "disable server be/s1") == "\n"
    assert served_by(port, 6) == {"s2": 6}
    assert servers_state(adm)["s1"][5:7] == ["0", "1"]  # stopped, FMAINT
    assert cli(adm, "enable server be/s1") == "\n"
    assert served_by(port, 6) == {"s1": 3, "s2": 3}
    assert cli(adm, "set server be/s2 state maint") == "\n"
    _, rows = parse_csv(cli(adm, "show stat"))
    assert rows[("be", "s2")]["status"] == "MAINT"
    assert served_by(port, 4) == {"s1": 4}
    assert cli(adm, "set server be/s1 state maint") == "\n"
    with HttpConn(port) as c:
        assert c.request("GET", "/").status == 503, "every server in maintenance: 503"
    _, rows = parse_csv(cli(adm, "show stat"))
    assert rows[("be", "BACKEND")]["status"] == "DOWN"
    assert cli(adm, "set server be/s1 state ready;set server be/s2 state ready") == "\n\n"
    assert served_by(port, 4) == {"s1": 2, "s2": 2}


def test_drain_lets_sessions_in_flight_finish(sluice, backends, fe, sockdir):
    s1, s2 = backends.http("s1"), backends.http("s2")
    sl = sluice(admin_config(sockdir, two(s1, s2)), fds={"FE1": fe()})
    adm, port = f"{sockdir}/admin.sock", sl.ports["FE1"]
    # The slow request must go to s1: s2 waits in maintenance until it is in flight.
    assert cli(adm, "set server be/s2 state maint") == "\n"
    slow = HttpConn(port, timeout=10)
    slow.send(build_request("GET", "/slow?delay=1500"))
    s1.wait_requests(1)
    assert cli(adm, "set server be/s2 state ready") == "\n"
    assert cli(adm, "set server be/s1 state drain") == "\n"

    _, rows = parse_csv(cli(adm, "show stat"))
    assert rows[("be", "s1")]["status"] == "DRAIN" and num(rows[("be", "s1")], "scur") == 1
    assert servers_state(adm)["s1"][6] == "8"  # SRV_ADMF_FDRAIN
    assert "srv=s1" in cli(adm, "show sess")
    # New sessions go to s2 only, while the one in flight on s1 goes on.
    assert served_by(port, 6) == {"s2": 6}
    r = slow.read_response()
    slow.close()
    assert r.status == 200 and r.header("x-backend") == "s1", r
    assert len(s1.seen()) == 1
    assert cli(adm, "set server be/s1 state ready") == "\n"
    assert served_by(port, 4) == {"s1": 2, "s2": 2}


def test_weight_change_moves_the_distribution(sluice, backends, fe, sockdir):
    s1, s2 = backends.http("s1"), backends.http("s2")
    sl = sluice(admin_config(sockdir, two(s1, s2)), fds={"FE1": fe()})
    adm, port = f"{sockdir}/admin.sock", sl.ports["FE1"]
    assert cli(adm, "set server be/s1 weight 3") == "\n"
    assert cli(adm, "get weight be/s1") == "3 (initial 1)\n\n"
    seen = served_by(port, 400)
    assert abs(seen["s1"] - 300) <= 20 and seen["s1"] + seen["s2"] == 400, seen
    _, rows = parse_csv(cli(adm, "show stat"))
    assert num(rows[("be", "s1")], "weight") == 3 and num(rows[("be", "BACKEND")], "weight") == 4
    assert cli(adm, "set server be/s2 weight 0%") == "\n"
    assert served_by(port, 10) == {"s1": 10}
    assert cli(adm, "set maxconn server be/s1 7") == "\n"
    _, rows = parse_csv(cli(adm, "show stat"))
    assert rows[("be", "s1")]["slim"] == "7"


def test_large_show_stat_goes_out_in_several_sends(sluice, backends, fe, sockdir):
    s1 = backends.http("s1")
    servers = "\n".join(f"server s{i} {s1.addr}" for i in range(1000))
    sluice(admin_config(sockdir, servers), fds={"FE1": fe()})
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(10)
        s.connect(f"{sockdir}/admin.sock")
        s.sendall(b"show stat\n")
        out = bytearray()
        while True:
            data = s.recv(4096)
            if not data:
                break
            out += data
    assert len(out) > 200_000
    _, rows = parse_csv(out.decode())
    assert len(rows) == 1002 and ("be", "s999") in rows


@pytest.mark.sluice_only("HAProxy 2.6.12 kept idle CLI connections past `stats timeout 1s` here (10 s observed)")
def test_stats_timeout_closes_idle_connections(sluice, backends, fe, sockdir):
    s1, s2 = backends.http("s1"), backends.http("s2")
    sluice(admin_config(sockdir, two(s1, s2), extra_global="    stats timeout 1s\n"), fds={"FE1": fe()})
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(f"{sockdir}/admin.sock")
        s.sendall(b"prompt\n")
        got = b""
        dl = Deadline(4)
        while not dl.expired():
            data = s.recv(100)
            if not data:
                break
            got += data
        assert got == b"\n> " and not dl.expired(), f"idle CLI connection not closed by stats timeout ({got!r})"


@pytest.mark.sluice_only("in-process reload on SIGHUP")
def test_admin_state_survives_reload_unless_the_line_changed(sluice, backends, fe, sockdir):
    s1, s2, s3 = backends.http("s1"), backends.http("s2"), backends.http("s3")
    servers = f"server s1 {s1.addr}\nserver s2 {s2.addr}\nserver s3 {s3.addr}"
    sl = sluice(admin_config(sockdir, servers), fds={"FE1": fe()})
    adm, port = f"{sockdir}/admin.sock", sl.ports["FE1"]
    cfg_path = sl.workdir / f"{sl.name}.cfg"
    inode = os.stat(adm).st_ino
    assert cli(adm, "set server be/s1 state drain;set server be/s2 weight 5;disable server be/s3") == "\n\n\n"
    assert cli(adm, "set maxconn server be/s2 9") == "\n"
    # An interactive CLI connection opened before the reload keeps working after it.
    keeper = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    keeper.settimeout(5)
    keeper.connect(adm)
    keeper.sendall(b"prompt\n")
    assert keeper.recv(100) == b"\n> "

    def reload(n: int):
        sl.signal(signal.SIGHUP)
        wait_until(lambda: sl.stderr().count("Reload complete") >= n, 5, f"reload #{n} complete")

    cfg_path.write_text(cfg_path.read_text())
    reload(1)
    state = servers_state(adm)
    assert state["s1"][6] == "8" and state["s2"][7] == "5" and state["s3"][6] == "1", state
    assert os.stat(adm).st_ino == inode, "the admin socket was kept, not re-bound"
    assert served_by(port, 6) == {"s2": 6}
    _, rows = parse_csv(cli(adm, "show stat"))
    assert rows[("be", "s2")]["slim"] == "9", "maxconn set on the socket survives the reload"

    # The file changes s1's line (weight 2): the file wins for s1; s2 and s3 keep what the socket set.
    cfg_path.write_text(cfg_path.read_text().replace(f"server s1 {s1.addr}", f"server s1 {s1.addr} weight 2"))
    reload(2)
    state = servers_state(adm)
    assert state["s1"][6] == "0" and state["s1"][7] == "2", state["s1"]
    assert state["s2"][7] == "5" and state["s3"][6] == "1"
    _, rows = parse_csv(cli(adm, "show stat"))
    assert rows[("be", "s1")]["slim"] == "" and rows[("be", "s2")]["slim"] == "9"
    seen = served_by(port, 70)
    assert seen["s3"] == 0 and abs(seen["s1"] - 20) <= 2 and abs(seen["s2"] - 50) <= 2, seen

    keeper.sendall(b"show cli level\n")
    assert keeper.recv(100) == b"admin\n\n> "
    keeper.close()

    # A stats socket the new file no longer has is closed and its path removed; a new one is bound.
    text = cfg_path.read_text().replace(f"{sockdir}/user.sock", f"{sockdir}/other.sock")
    cfg_path.write_text(text)
    reload(3)
    assert not os.path.exists(f"{sockdir}/user.sock")
    assert cli(f"{sockdir}/other.sock", "show cli level") == "user\n\n"
    assert os.stat(adm).st_ino == inode


def test_eleventh_connection_waits_for_a_free_slot(sluice, backends, fe, sockdir):
    """A stats socket serves 10 connections at once (HAProxy's default `maxconn` for it); the next one waits in
    the backlog and is served as soon as one closes."""
    s1, s2 = backends.http("s1"), backends.http("s2")
    sluice(admin_config(sockdir, two(s1, s2)), fds={"FE1": fe()})
    adm = f"{sockdir}/admin.sock"
    held = []
    try:
        for _ in range(10):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(adm)
            s.sendall(b"prompt\n")
            assert s.recv(100) == b"\n> "
            held.append(s)
        extra = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        held.append(extra)
        extra.connect(adm)
        extra.sendall(b"show cli level\n")
        extra.settimeout(0.5)
        with pytest.raises(socket.timeout):
            extra.recv(100)
        held.pop(0).close()
        extra.settimeout(5)
        assert extra.recv(100) == b"admin\n\n"
    finally:
        for s in held:
            s.close()
