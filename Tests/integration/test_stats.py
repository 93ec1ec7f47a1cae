"""The stats page (`stats uri`: HTML, `;csv` in HAProxy 2.6's column layout, `stats refresh`, `stats auth`) and the
Prometheus exporter (`http-request use-service prometheus-exporter`): outputs parsed and checked, counters moving
with the traffic that went through."""

import base64

import pytest

from conftest import HAPROXY_MODE, wait_until
from httpclient import HttpConn, http_config
from statsclient import HAPROXY_CSV_HEADER, PROM, metric, num, parse_csv, parse_prometheus


def two_servers(s1, s2, extra: str = "") -> dict[str, str]:
    return {"be": f"balance roundrobin\nserver s1 {s1.addr}\nserver s2 {s2.addr}\n{extra}"}


def get(port: int, target: str, headers=None):
    with HttpConn(port) as c:
        return c.request("GET", target, headers=headers)


def stats_and_metrics(sluice, fe, backend: str) -> int:
    """A frontend with the stats page on /stats and the exporter on /metrics in front of backend `be`; its port."""
    cfg = http_config("stats enable\nstats uri /stats\nhttp-request use-service prometheus-exporter if { path /metrics }",
                      {"be": backend})
    return sluice(cfg, fds={"FE1": fe()}).ports["FE1"]


def csv_rows_after(port: int, targets: list[str]) -> dict:
    """GETs `targets` on one keep-alive connection (each must answer 200), then returns the CSV rows by key."""
    with HttpConn(port) as c:
        for target in targets:
            assert c.request("GET", target).status == 200, target
    return parse_csv(get(port, "/stats;csv").body.decode())[1]


def test_csv_layout_and_counters_move_with_traffic(sluice, backends, fe):
    s1, s2 = backends.http("s1"), backends.http("s2")
    cfg = http_config("stats enable\nstats uri /stats", two_servers(s1, s2))
    port = sluice(cfg, fds={"FE1": fe()}).ports["FE1"]

    first = get(port, "/stats;csv")
    assert first.status == 200, first
    assert first.header("content-type").startswith("text/plain"), first.headers
    header = first.body.decode().split("\n")[0]
    assert header == HAPROXY_CSV_HEADER
    columns, before = parse_csv(first.body.decode())
    assert list(before) == [("fe", "FRONTEND"), ("be", "s1"), ("be", "s2"), ("be", "BACKEND")]
    assert before[("fe", "FRONTEND")]["type"] == "0" and before[("be", "BACKEND")]["type"] == "1"
    assert before[("be", "s1")]["type"] == "2" and before[("be", "s1")]["status"] in ("no check", "UP")
    assert before[("fe", "FRONTEND")]["status"] == "OPEN"
    assert before[("be", "BACKEND")]["status"] == "UP"
    assert before[("fe", "FRONTEND")]["mode"] == "http"
    # The page leaves out the "legends" (addresses, algorithm), as HAProxy's without `stats show-legends`.
    assert before[("be", "BACKEND")]["algo"] == "" and before[("be", "s1")]["addr"] == ""

    with HttpConn(port) as c:
        for i in range(10):
            r = c.request("GET", f"/item/{i}")
            assert r.status == 200, r
        r = c.request("GET", "/missing?status=404")
        assert r.status == 404, r
    _, after = parse_csv(get(port, "/stats;csv").body.decode())

    fe_b, fe_a = before[("fe", "FRONTEND")], after[("fe", "FRONTEND")]
    # 11 proxied requests, plus the first stats request (this one is counted once it is answered).
    assert num(fe_a, "req_tot") - num(fe_b, "req_tot") == 12, (fe_b["req_tot"], fe_a["req_tot"])
    assert num(fe_a, "hrsp_2xx") - num(fe_b, "hrsp_2xx") == 11
    assert num(fe_a, "hrsp_4xx") - num(fe_b, "hrsp_4xx") == 1
    assert num(fe_a, "stot") - num(fe_b, "stot") == 2  # the keep-alive connection and the second stats one
    assert num(fe_a, "bin") > num(fe_b, "bin") + 11 * 20
    assert num(fe_a, "bout") > num(fe_b, "bout") + 11 * 100
    assert num(fe_a, "intercepted") >= 1
    for sv in ("s1", "s2"):
        b, a = before[("be", sv)], after[("be", sv)]
        assert num(a, "stot") - num(b, "stot") in (5, 6), (sv, b["stot"], a["stot"])
        assert num(a, "hrsp_2xx") + num(a, "hrsp_4xx") == num(a, "stot")
        assert num(a, "bin") > 0 and num(a, "bout") > 0
        assert num(a, "scur") == 0 and num(a, "smax") >= 1
    be_a = after[("be", "BACKEND")]
    assert num(be_a, "stot") >= 1
    assert num(be_a, "hrsp_2xx") - num(before[("be", "BACKEND")], "hrsp_2xx") == 10
    assert num(be_a, "weight") == 2 and num(be_a, "act") == 2 and num(be_a, "bck") == 0
    assert len(s1.seen()) + len(s2.seen()) == 11


def test_html_page_and_refresh(sluice, backends, fe):
    s1, s2 = backends.http("s1"), backends.http("s2")
    cfg = http_config("stats enable\nstats uri /admin?stats\nstats refresh 7s", two_servers(s1, s2))
    port = sluice(cfg, fds={"FE1": fe()}).ports["FE1"]
    r = get(port, "/admin?stats")
    assert r.status == 200, r
    assert r.header("content-type").startswith("text/html")
    assert r.header("refresh") == "7"
    html = r.body.decode()
    assert "<html" in html.lower() and "</html>" in html.lower()
    for name in ("fe", "be", "s1", "s2"):
        assert f">{name}<" in html, f"{name} missing from the page"
    # Prefix match: the options after the prefix select the CSV; `;norefresh` drops the refresh header.
    csv = get(port, "/admin?stats;csv;norefresh")
    assert csv.body.startswith(b"# pxname,svname,") and csv.header("refresh") is None
    # Other paths still go to the backend.
    assert get(port, "/admin").status == 200 and len(s1.seen()) + len(s2.seen()) == 1


def test_stats_auth(sluice, backends, fe):
    s1 = backends.http("s1")
    cfg = http_config('stats uri /stats\nstats auth admin:s3cret\nstats auth ops:other\nstats realm My\\ Stats',
                      {"be": f"server s1 {s1.addr}"})
    port = sluice(cfg, fds={"FE1": fe()}).ports["FE1"]

    def auth(user, password):
        return [("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())]

    r = get(port, "/stats")
    assert r.status == 401, r
    assert r.header("www-authenticate") == 'Basic realm="My Stats"', r.headers
    assert get(port, "/stats;csv", auth("admin", "wrong")).status == 401
    assert get(port, "/stats;csv", auth("nobody", "s3cret")).status == 401
    assert get(port, "/stats", [("Authorization", "Basic !!notbase64")]).status == 401
    ok = get(port, "/stats;csv", auth("admin", "s3cret"))
    assert ok.status == 200 and ok.body.startswith(b"# pxname,"), ok
    assert get(port, "/stats;csv", auth("ops", "other")).status == 200
    assert s1.seen() == [], "stats requests never reach the backend"


def test_page_larger_than_a_buffer(sluice, backends, fe):
    """300 servers: the CSV and the HTML are far larger than tune.bufsize and arrive whole, twice on one
    keep-alive connection."""
    s1 = backends.http("s1")
    servers = "\n".join(f"server s{i} {s1.addr}" for i in range(300))
    cfg = http_config("stats uri /stats", {"be": servers})
    port = sluice(cfg, fds={"FE1": fe()}).ports["FE1"]
    with HttpConn(port, timeout=10) as c:
        for target in ("/stats;csv", "/stats", "/stats;csv"):
            r = c.request("GET", target)
            assert r.status == 200 and len(r.body) > 40000, (target, len(r.body))
            if target.endswith("csv"):
                _, rows = parse_csv(r.body.decode())
                assert len(rows) == 302
            else:
                assert r.body.rstrip().endswith(b"</html>")


def test_prometheus_metrics(sluice, backends, fe):
    s1, s2 = backends.http("s1"), backends.http("s2")
    cfg = http_config("http-request use-service prometheus-exporter if { path /metrics }", two_servers(s1, s2))
    port = sluice(cfg, fds={"FE1": fe()}).ports["FE1"]

    r = get(port, "/metrics")
    assert r.status == 200, r
    assert r.header("content-type").startswith("text/plain"), r.headers
    if not HAPROXY_MODE:
        assert "version=0.0.4" in r.header("content-type")
    types, before = parse_prometheus(r.body.decode())
    for name, kind in [("process_current_connections", "gauge"), ("process_connections_total", "counter"),
                       ("process_requests_total", "counter"), ("frontend_current_sessions", "gauge"),
                       ("frontend_http_requests_total", "counter"), ("frontend_bytes_in_total", "counter"),
                       ("backend_status", "gauge"), ("backend_sessions_total", "counter"),
                       ("server_status", "gauge"), ("server_sessions_total", "counter"),
                       ("server_http_responses_total", "counter"), ("server_weight", "gauge")]:
        assert types.get(f"{PROM}_{name}", ("?",))[0] == kind, f"{PROM}_{name}: {types.get(f'{PROM}_{name}')}"
    assert metric(before, f"{PROM}_server_status", proxy="be", server="s1", state="UP") == 1
    assert metric(before, f"{PROM}_server_status", proxy="be", server="s1", state="MAINT") == 0
    assert metric(before, f"{PROM}_backend_status", proxy="be", state="UP") == 1
    assert metric(before, f"{PROM}_frontend_status", proxy="fe", state="UP") == 1
    assert metric(before, f"{PROM}_process_current_connections") >= 1

    with HttpConn(port) as c:
        for i in range(6):
            assert c.request("GET", f"/p/{i}").status == 200
    _, after = parse_prometheus(get(port, "/metrics").body.decode())
    assert metric(after, f"{PROM}_frontend_http_requests_total", proxy="fe") \
        - metric(before, f"{PROM}_frontend_http_requests_total", proxy="fe") == 7  # 6 + the first /metrics
    total = 0
    for sv in ("s1", "s2"):
        d = metric(after, f"{PROM}_server_sessions_total", proxy="be", server=sv) \
            - metric(before, f"{PROM}_server_sessions_total", proxy="be", server=sv)
        assert d == 3, (sv, d)
        total += metric(after, f"{PROM}_server_http_responses_total", proxy="be", server=sv, code="2xx")
    assert total == 6
    assert metric(after, f"{PROM}_frontend_bytes_out_total", proxy="fe") \
        > metric(before, f"{PROM}_frontend_bytes_out_total", proxy="fe")
    assert metric(after, f"{PROM}_process_requests_total") >= 7


@pytest.mark.sluice_only("HAProxy 2.6's exporter has no backend_up; sluice adds it")
def test_prometheus_backend_up(sluice, backends, fe):
    s1 = backends.http("s1")
    cfg = http_config("http-request use-service prometheus-exporter if { path /metrics }",
                      {"be": f"server s1 {s1.addr}", "empty": f"server x {s1.addr} disabled"})
    port = sluice(cfg, fds={"FE1": fe()}).ports["FE1"]
    _, samples = parse_prometheus(get(port, "/metrics").body.decode())
    assert metric(samples, "sluice_backend_up", proxy="be") == 1
    assert metric(samples, "sluice_backend_up", proxy="empty") == 0
    assert metric(samples, "sluice_server_status", proxy="empty", server="x", state="MAINT") == 1


def test_head_on_the_stats_page_has_no_body(sluice, backends, fe):
    s1 = backends.http("s1")
    port = sluice(http_config("stats uri /stats", {"be": f"server s1 {s1.addr}"}), fds={"FE1": fe()}).ports["FE1"]
    with HttpConn(port) as c:
        r = c.request("HEAD", "/stats;csv")
        assert r.status == 200 and r.body == b"", r
        r = c.request("GET", "/stats;csv")  # the same connection goes on: no stray body bytes
        assert r.status == 200 and r.body.startswith(b"# pxname,"), r


def test_queue_counters(sluice, backends, fe):
    """Three slow requests at once on a `maxconn 1` server: two wait in the backend queue (qcur while they wait,
    qmax after), the server never has more than one (smax)."""
    import concurrent.futures

    s1 = backends.http("s1")
    cfg = http_config("stats uri /stats", {"be": f"timeout queue 5s\nserver s1 {s1.addr} maxconn 1"})
    port = sluice(cfg, fds={"FE1": fe()}).ports["FE1"]
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(get, port, f"/slow?delay=800&i={i}") for i in range(3)]
        s1.wait_requests(1)

        def queued() -> int:
            return num(parse_csv(get(port, "/stats;csv").body.decode())[1][("be", "BACKEND")], "qcur")

        wait_until(lambda: queued() == 2, 0.7, "two requests in the backend queue (qcur 2)")
        assert [f.result(timeout=10).status for f in futures] == [200, 200, 200]
    _, after = parse_csv(get(port, "/stats;csv").body.decode())
    assert num(after[("be", "BACKEND")], "qcur") == 0 and num(after[("be", "BACKEND")], "qmax") == 2
    assert num(after[("be", "s1")], "smax") == 1 and num(after[("be", "s1")], "slim") == 1
    assert num(after[("be", "s1")], "stot") == 3


def test_check_columns_and_metrics_after_a_server_goes_down(sluice, backends, fe):
    """A checked server that refuses connections: the CSV says why (check_status L4CON, check_desc, last_chk
    "Connection refused"), counts the failed check and the UP->DOWN transition (chkfail, chkdown), and its downtime
    grows; the healthy server shows L4OK. Prometheus carries the same counters under HAProxy's names."""
    s2 = backends.http("s2")
    cfg = http_config(
        "stats enable\nstats uri /stats\nhttp-request use-service prometheus-exporter if { path /metrics }",
        {"be": f"server s1 {backends.refused()} check inter 200 fall 1 rise 1\nserver s2 {s2.addr} check inter 200"})
    sl = sluice(cfg, fds={"FE1": fe()})
    port = sl.ports["FE1"]
    sl.wait_output("Server be/s1 is DOWN", timeout=5)

    def rows():
        return parse_csv(get(port, "/stats;csv").body.decode())[1]

    wait_until(lambda: rows()[("be", "s2")]["check_status"].endswith("L4OK"), 5, "s2 checked once")
    s1, s2row = rows()[("be", "s1")], rows()[("be", "s2")]
    assert s1["status"] == "DOWN" and s1["check_status"].endswith("L4CON"), s1
    assert s1["check_desc"] == "Layer4 connection problem" and s1["last_chk"] == "Connection refused", s1
    assert num(s1, "chkfail") == 1 and num(s1, "chkdown") == 1 and num(s1, "check_health") == 0, s1
    assert num(s1, "downtime") >= 0 and s1["check_duration"] != "", s1
    assert s2row["check_desc"] == "Layer4 check passed" and num(s2row, "chkfail") == 0, s2row
    assert num(s2row, "chkdown") == 0 and num(s2row, "downtime") == 0 and num(s2row, "check_health") >= 1, s2row

    _, prom = parse_prometheus(get(port, "/metrics").body.decode())
    assert metric(prom, f"{PROM}_server_check_up_down_total", proxy="be", server="s1") == 1
    assert metric(prom, f"{PROM}_server_check_failures_total", proxy="be", server="s1") == 1
    assert metric(prom, f"{PROM}_server_check_up_down_total", proxy="be", server="s2") == 0
    assert metric(prom, f"{PROM}_server_downtime_seconds_total", proxy="be", server="s1") >= 0


def test_backend_weight_is_the_backup_weight_when_no_active_server_is_up(sluice, backends, fe):
    """With every active server down, the BACKEND row's weight is the weight of the backup that takes the
    traffic (HAProxy's tot_weight), not 0."""
    s2 = backends.http("s2")
    cfg = http_config("stats enable\nstats uri /stats", {
        "be": f"server s1 {backends.refused()} check inter 200 fall 1\nserver s2 {s2.addr} backup weight 3"})
    sl = sluice(cfg, fds={"FE1": fe()})
    sl.wait_output("Server be/s1 is DOWN", timeout=5)
    be = parse_csv(get(sl.ports["FE1"], "/stats;csv").body.decode())[1][("be", "BACKEND")]
    assert (num(be, "weight"), num(be, "act"), num(be, "bck"), be["status"]) == (3, 0, 1, "UP"), be


def test_time_columns_follow_a_slow_server(sluice, backends, fe):
    """qtime/ctime/rtime/ttime and their maxima (ms) for servers and backends, and Prometheus' *_time_* metrics
    (seconds): a server that waits 150 ms before answering shows a response time of at least that."""
    port = stats_and_metrics(sluice, fe, f"server s1 {backends.http('s1').addr}")
    rows = csv_rows_after(port, [f"/slow/{i}?delay=150" for i in range(3)])
    for key in (("be", "s1"), ("be", "BACKEND")):
        r = rows[key]
        assert num(r, "rtime") >= 140 and num(r, "rtime_max") >= 150, (key, r["rtime"], r["rtime_max"])
        assert num(r, "ttime") >= num(r, "rtime") and num(r, "ttime_max") >= num(r, "rtime_max"), key
        assert num(r, "qtime") == 0 and num(r, "ctime") >= 0 and num(r, "ctime_max") >= num(r, "ctime"), key
    if HAPROXY_MODE:
        return  # HAProxy 2.6's exporter divides these sums by 1024 whatever the sample count (0.001 s here)
    _, prom = parse_prometheus(get(port, "/metrics").body.decode())
    assert metric(prom, f"{PROM}_server_response_time_average_seconds", proxy="be", server="s1") >= 0.14
    assert metric(prom, f"{PROM}_backend_max_response_time_seconds", proxy="be") >= 0.15


def test_connect_and_reuse_counts(sluice, backends, fe):
    """`connect` counts new server connections, `reuse` requests sent over one that already existed: five requests
    on one keep-alive client connection make one connection and four reuses (server and backend rows, and
    Prometheus' connection_attempts_total / connection_reuses_total)."""
    port = stats_and_metrics(sluice, fe, f"server s1 {backends.http('s1').addr}")
    rows = csv_rows_after(port, [f"/k/{i}" for i in range(5)])
    for key in (("be", "s1"), ("be", "BACKEND")):
        assert (num(rows[key], "connect"), num(rows[key], "reuse")) == (1, 4), (key, rows[key]["connect"], rows[key]["reuse"])
    _, prom = parse_prometheus(get(port, "/metrics").body.decode())
    assert metric(prom, f"{PROM}_server_connection_attempts_total", proxy="be", server="s1") == 1
    assert metric(prom, f"{PROM}_backend_connection_reuses_total", proxy="be") == 4
