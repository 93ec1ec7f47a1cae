"""Clients for sluice's statistics: the admin socket (HAProxy's CLI protocol over a unix socket), the CSV of
`show stat` / `stats uri;csv`, and the Prometheus text exposition. Shared by test_stats.py and test_admin.py."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile

import pytest

from conftest import HAPROXY_MODE, Deadline

# Metric names: HAProxy's exporter says haproxy_, sluice says sluice_ (the rest of the name is the same).
PROM = "haproxy" if HAPROXY_MODE else "sluice"

# HAProxy 2.6's `show stat` header, captured from /usr/sbin/haproxy 2.6.12.
HAPROXY_CSV_HEADER = (
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,"
    "act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,"
    "check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,"
    "req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,"
    "qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,"
    "check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,"
    "intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,"
    "rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,"
    "agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,"
    "h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,"
    "h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,"
    "h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,"
    "h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,")

SERVERS_STATE_HEADER = (
    "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
    "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state "
    "bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr "
    "srv_agent_addr srv_agent_port")


@pytest.fixture
def sockdir():
    """A short directory for unix sockets (sun_path holds 108 bytes; tmp_path can be longer)."""
    d = tempfile.mkdtemp(prefix="sla-", dir="/tmp")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def cli(path: str, command: str, timeout: float = 5.0, half_close: bool = True) -> str:
    """One CLI exchange the way `echo CMD | socat stdio unix-connect:PATH` does it: connect, send the line,
    (optionally) shut down writing, read until the server closes."""
    dl = Deadline(timeout)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(command.encode() + b"\n")
        if half_close:
            s.shutdown(socket.SHUT_WR)
        out = bytearray()
        while True:
            if dl.expired():
                raise AssertionError(f"CLI {command!r}: no close within {timeout}s (got {bytes(out[:200])!r})")
            s.settimeout(max(0.01, dl.left()))
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            if not data:
                return out.decode()
            out += data


def parse_csv(text: str) -> tuple[list[str], dict[tuple[str, str], dict[str, str]]]:
    """(column names, {(pxname, svname): {column: value}}) from `show stat` output; checks the layout."""
    lines = [ln for ln in text.split("\n") if ln]
    assert lines and lines[0].startswith("# "), f"no CSV header: {text[:200]!r}"
    assert lines[0].endswith(","), "the header ends with a comma, as HAProxy's"
    columns = lines[0][2:].rstrip(",").split(",")
    rows = {}
    for ln in lines[1:]:
        assert ln.endswith(","), f"row does not end with a comma: {ln[:80]!r}"
        values = ln.rstrip("\n")[:-1].split(",")
        assert len(values) == len(columns), f"{len(values)} values for {len(columns)} columns: {ln[:120]!r}"
        row = dict(zip(columns, values))
        if row["pxname"].startswith("__harness"):
            continue  # the readiness listener the harness adds in HAProxy mode
        rows[(row["pxname"], row["svname"])] = row
    return columns, rows


def num(row: dict[str, str], column: str) -> int:
    value = row[column]
    assert value != "", f"{row['pxname']}/{row['svname']}: column {column} is empty"
    return int(value)


def parse_prometheus(text: str) -> tuple[dict[str, tuple[str, str]], dict[tuple[str, frozenset], float]]:
    """({metric: (type, help)}, {(metric, labels): value}) from a text exposition; checks that every sample's
    metric had its HELP and TYPE before it, and that each metric is declared once."""
    types: dict[str, tuple[str, str]] = {}
    helps: dict[str, str] = {}
    samples: dict[tuple[str, frozenset], float] = {}
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert name not in helps, f"HELP twice for {name}"
            helps[name] = help_text
            continue
        if line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert name in helps, f"TYPE before HELP for {name}"
            assert kind in ("gauge", "counter"), f"{name}: type {kind}"
            types[name] = (kind, helps[name])
            continue
        assert not line.startswith("#"), f"unexpected comment {line!r}"
        if "{" in line:
            name, _, rest = line.partition("{")
            label_text, _, value = rest.rpartition("} ")
            labels = frozenset(tuple(kv.split("=", 1)) for kv in label_text.split(",") if kv)
            labels = frozenset((k, v.strip('"')) for k, v in labels)
        else:
            name, _, value = line.partition(" ")
            labels = frozenset()
        assert name in types, f"sample of {name} before its TYPE"
        if types[name][0] == "counter" and not HAPROXY_MODE:
            assert name.endswith("_total"), f"counter {name} does not end in _total"
        samples[(name, labels)] = float(value)
    return types, samples


def metric(samples, name: str, **labels) -> float:
    key = (name, frozenset(labels.items()))
    assert key in samples, f"no sample {name}{labels}; have {sorted(k[0] for k in samples if k[0].startswith(name))}"
    return samples[key]
