"""Access log: `option httplog` writes one line per request in HAProxy's httplog format to the `log` target."""

import datetime
import re

from conftest import wait_until
from httpclient import HttpConn, http_config

# 127.0.0.1:PORT [29/Nov/2025:07:11:00.123] fe be/s1 Tq/Tw/Tc/Tr/Ta STATUS BYTES - - TERM act/fe/be/srv/retries
# srv_queue/backend_queue "REQUEST LINE"
HTTPLOG = re.compile(
    r'127\.0\.0\.1:(?P<port>\d+) \[(?P<date>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3})\] (?P<fe>\S+) '
    r'(?P<be>[^/\s]+)/(?P<srv>\S+) '
    r'(?P<tq>-?\d+)/(?P<tw>-?\d+)/(?P<tc>-?\d+)/(?P<tr>-?\d+)/(?P<ta>\+?\d+) '
    r'(?P<status>\d{3}) (?P<bytes>\+?\d+) - - (?P<term>[-A-Za-z]{4}) '
    r'(?P<act>\d+)/(?P<fec>\d+)/(?P<bec>\d+)/(?P<srvc>\d+)/(?P<retries>\+?\d+) (?P<sq>\d+)/(?P<bq>\d+) '
    r'"(?P<req>[^"]*)"$'
)


def log_lines(sl) -> list[re.Match]:
    return [m for m in (HTTPLOG.search(line) for line in sl.stderr().splitlines()) if m]


def log_config(be, extra: str = "") -> str:
    return http_config(f"""
        log stderr format raw local0 info
        option httplog
        {extra}
    """, {"be": f"server s1 {be.addr}"})


def wait_lines(sl, n: int, timeout: float = 5.0) -> list[re.Match]:
    wait_until(lambda: len(log_lines(sl)) >= n, timeout, f"{n} httplog lines on stderr (have:\n{sl.stderr()})")
    return log_lines(sl)


def test_httplog_line_per_request(sluice, backends, fe):
    """Three requests on one keep-alive connection (200, 200, a backend 404) and a 502 on another: one line each,
    in order, with HAProxy's fields."""
    be = backends.http()
    sl = sluice(log_config(be), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        port = c.local_port()
        answers = [c.request("GET", "/a?x=1"), c.request("POST", "/b", body=b"p" * 1000),
                   c.request("GET", "/missing?status=404")]
    with HttpConn(sl.ports["FE1"]) as c2:
        port2 = c2.local_port()
        answers.append(c2.request("GET", "/gone?noanswer=1"))
    assert [r.status for r in answers] == [200, 200, 404, 502]
    lines = wait_lines(sl, 4)
    assert len(lines) == 4, f"one line per request:\n{sl.stderr()}"
    assert [m["req"] for m in lines] == ["GET /a?x=1 HTTP/1.1", "POST /b HTTP/1.1",
                                         "GET /missing?status=404 HTTP/1.1", "GET /gone?noanswer=1 HTTP/1.1"]
    assert [int(m["port"]) for m in lines] == [port] * 3 + [port2], "client ip:port"
    assert [int(m["status"]) for m in lines] == [200, 200, 404, 502]
    assert [m["fe"] for m in lines] == ["fe"] * 4
    assert [f"{m['be']}/{m['srv']}" for m in lines] == ["be/s1"] * 4
    assert [m["term"] for m in lines] == ["----", "----", "----", "SH--"], \
        "termination states: normal, then the server closed before sending its headers (SH)"
    for m, r in zip(lines[:3], answers[:3]):
        # HAProxy counts the response as it holds it internally (a few bytes under what went on the wire).
        assert len(r.body) < int(m["bytes"]) <= len(r.raw_head) + len(r.body), f"response bytes: {m.group(0)}"
        tq, tw, tc, tr, ta = (int(m[k]) for k in ("tq", "tw", "tc", "tr", "ta"))
        assert min(tq, tw, tc, tr) >= 0 and ta >= tr, f"timers of a served request: {m.group(0)}"
        assert int(m["retries"]) == 0 and (m["sq"], m["bq"]) == ("0", "0")
        # One client at a time: actconn and feconn count it, beconn and srv_conn no longer do (HAProxy logs once
        # the request has left its backend and server).
        assert (m["act"], m["fec"], m["bec"], m["srvc"]) == ("1", "1", "0", "0"), f"counters: {m.group(0)}"
    assert lines[3]["tr"] == "-1", f"no server response: Tr is -1: {lines[3].group(0)}"
    when = datetime.datetime.strptime(lines[0]["date"], "%d/%b/%Y:%H:%M:%S.%f")
    assert abs((datetime.datetime.now() - when).total_seconds()) < 120, f"accept date in local time: {when}"


def test_httplog_denied_request(sluice, backends, fe):
    """A request denied by `http-request deny` is logged against the frontend with no server (`fe/<NOSRV>`), timers
    it never reached as -1, and termination state PR-- (proxy, during the request)."""
    be = backends.http()
    sl = sluice(log_config(be, "http-request deny if { path_beg /deny }"), fds={"FE1": fe()})
    with HttpConn(sl.ports["FE1"]) as c:
        assert c.request("GET", "/deny/this").status == 403
    (m,) = wait_lines(sl, 1)
    assert m["req"] == "GET /deny/this HTTP/1.1" and m["status"] == "403", m.group(0)
    assert f"{m['be']}/{m['srv']}" == "fe/<NOSRV>" and m["term"] == "PR--", m.group(0)
    assert (m["tw"], m["tc"], m["tr"]) == ("-1", "-1", "-1"), m.group(0)
