// SPDX-License-Identifier: Apache-2.0
// Stats rendering: the CSV's header and rows in HAProxy 2.6's layout, the Prometheus exposition, the stats page's
// URI options and HTTP Basic authentication (base64 decoded by hand), the counters' rate and status classes.
import SluiceConfig
import SluiceCore
import XCTest

@testable import SluiceProxy

final class StatsTests: XCTestCase {
    // MARK: CSV

    /// HAProxy 2.6.12's `show stat` header, byte for byte (captured from /usr/sbin/haproxy).
    static let haproxyHeader =
        "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,"
        + "act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,"
        + "rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,"
        + "hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,"
        + "last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,"
        + "check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,"
        + "conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,"
        + "src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,"
        + "need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,"
        + "ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,"
        + "h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,"
        + "h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,"
        + "h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,"
        + "h1_spliced_bytes_in,h1_spliced_bytes_out,"

    func testCSVHeader_isHAProxy26s() {
        XCTAssertEqual(StatsCSV.header, Self.haproxyHeader)
        XCTAssertEqual(StatsCSV.columns.count, 128)
    }

    func testCSVRow_hasEveryColumnAndTrailingComma() {
        var row = StatsRow(kind: .server, proxy: "be", service: "s1")
        row[int: "scur"] = 3
        row["status"] = "no check"
        let line = StatsCSV.line(row)
        XCTAssertTrue(line.hasPrefix("be,s1,,,3,"), line)
        XCTAssertTrue(line.hasSuffix(","), line)
        let fields = line.dropLast().split(separator: ",", omittingEmptySubsequences: false)
        XCTAssertEqual(fields.count, StatsCSV.columns.count)
        XCTAssertEqual(fields[StatsCSV.index(of: "type")], "2")
        XCTAssertEqual(fields[StatsCSV.index(of: "status")], "no check")
        XCTAssertEqual(fields[StatsCSV.index(of: "-")], "-")
        XCTAssertEqual(fields[StatsCSV.index(of: "hrsp_2xx")], "")
    }

    func testCSVRender_headerThenOneLinePerRow() {
        let rows = [
            StatsRow(kind: .frontend, proxy: "fe", service: "FRONTEND"),
            StatsRow(kind: .backend, proxy: "be", service: "BACKEND"),
        ]
        let lines = StatsCSV.render(rows).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 4)  // header, two rows, the empty string after the last newline
        XCTAssertEqual(String(lines[0]), Self.haproxyHeader)
        XCTAssertTrue(lines[1].hasPrefix("fe,FRONTEND,"))
        XCTAssertTrue(lines[2].hasPrefix("be,BACKEND,"))
        XCTAssertEqual(lines[3], "")
    }

    // MARK: Prometheus

    func testPrometheus_helpTypeThenSeries() {
        var fe = StatsRow(kind: .frontend, proxy: "fe", service: "FRONTEND")
        fe[int: "scur"] = 2
        fe["status"] = "OPEN"
        fe[int: "hrsp_2xx"] = 5
        fe[int: "hrsp_1xx"] = 0
        var s1 = StatsRow(kind: .server, proxy: "be", service: "s1")
        s1["status"] = "DRAIN"
        s1[int: "stot"] = 7
        let text = PrometheusExporter.render(
            info: [("CurrConns", "4"), ("CumReq", "9")],
            rows: [fe, s1],
            version: "0.1.0"
        )
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("# TYPE sluice_process_current_connections gauge"))
        XCTAssertTrue(lines.contains("sluice_process_current_connections 4"))
        XCTAssertTrue(lines.contains("# TYPE sluice_process_requests_total counter"))
        XCTAssertTrue(lines.contains("sluice_process_requests_total 9"))
        XCTAssertTrue(lines.contains("sluice_frontend_current_sessions{proxy=\"fe\"} 2"))
        XCTAssertTrue(lines.contains("sluice_frontend_status{proxy=\"fe\",state=\"UP\"} 1"))
        XCTAssertTrue(lines.contains("sluice_frontend_status{proxy=\"fe\",state=\"DOWN\"} 0"))
        XCTAssertTrue(lines.contains("sluice_frontend_http_responses_total{proxy=\"fe\",code=\"2xx\"} 5"))
        XCTAssertTrue(lines.contains("sluice_server_status{proxy=\"be\",server=\"s1\",state=\"DRAIN\"} 1"))
        XCTAssertTrue(lines.contains("sluice_server_status{proxy=\"be\",server=\"s1\",state=\"UP\"} 0"))
        XCTAssertTrue(lines.contains("sluice_server_sessions_total{proxy=\"be\",server=\"s1\"} 7"))
        // Empty fields give no series, and a metric without series gives no HELP/TYPE either.
        XCTAssertFalse(text.contains("sluice_frontend_bytes_in_total"))
        // Every sample line follows its metric's HELP and TYPE.
        var declared = Set<String>()
        for line in lines {
            if line.hasPrefix("# TYPE ") { declared.insert(String(line.split(separator: " ")[2])) }
            if !line.hasPrefix("#") {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                XCTAssertTrue(declared.contains(name), "sample before its TYPE: \(line)")
            }
        }
    }

    func testPrometheus_labelValuesAreEscaped() {
        XCTAssertEqual(PrometheusExporter.escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd")
    }

    // MARK: stats page

    func testBase64_decodesWithAndWithoutPadding() {
        XCTAssertEqual(
            Base64.decode(Array("YWRtaW46czNjcmV0".utf8)).map { String(decoding: $0, as: UTF8.self) },
            "admin:s3cret"
        )
        XCTAssertEqual(Base64.decode(Array("YQ==".utf8)), [0x61])
        XCTAssertEqual(Base64.decode(Array("YQ".utf8)), [0x61])
        XCTAssertEqual(Base64.decode(Array("YWI=".utf8)), [0x61, 0x62])
        XCTAssertEqual(Base64.decode(Array("".utf8)), [])
        XCTAssertEqual(Base64.decode(Array("+/8=".utf8)), [0xFB, 0xFF])
    }

    func testBase64_rejectsGarbage() {
        XCTAssertNil(Base64.decode(Array("YW*k".utf8)))
        XCTAssertNil(Base64.decode(Array("Y".utf8)))  // a lone sextet
        XCTAssertNil(Base64.decode(Array("YQ==YQ".utf8)))  // data after padding
    }

    private func page(_ credentials: [(String, String)] = []) -> StatsPage {
        var p = StatsPage(location: SourceLocation(file: "t.cfg", line: 1))
        p.uriPrefix = "/stats"
        p.credentials = credentials.map { StatsCredential(user: $0.0, password: $0.1) }
        return p
    }

    private func authorizes(_ p: StatsPage, _ header: String?) -> Bool {
        guard let header else { return p.authorizes(nil) }
        return Array(header.utf8).withUnsafeBytes { p.authorizes($0) }
    }

    func testStatsAuth_basicCredentials() {
        let p = page([("admin", "s3cret"), ("ops", "pw:with:colons")])
        XCTAssertTrue(authorizes(p, "Basic YWRtaW46czNjcmV0"))
        XCTAssertTrue(authorizes(p, "basic YWRtaW46czNjcmV0"))
        XCTAssertTrue(authorizes(p, "Basic b3BzOnB3OndpdGg6Y29sb25z"))
        XCTAssertFalse(authorizes(p, "Basic YWRtaW46YmFk"))  // admin:bad
        XCTAssertFalse(authorizes(p, "Bearer YWRtaW46czNjcmV0"))
        XCTAssertFalse(authorizes(p, "Basic !!!"))
        XCTAssertFalse(authorizes(p, nil))
        XCTAssertTrue(authorizes(page(), nil), "no stats auth: open")
    }

    func testStatsPage_401HasRealm() {
        var p = page([("a", "b")])
        var text = String(decoding: p.unauthorizedResponse(close: false), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 401 Unauthorized\r\n"))
        XCTAssertTrue(text.contains("\r\nwww-authenticate: Basic realm=\"HAProxy Statistics\"\r\n"))
        p.realm = "My Stats"
        text = String(decoding: p.unauthorizedResponse(close: true), as: UTF8.self)
        XCTAssertTrue(text.contains("realm=\"My Stats\""))
        XCTAssertTrue(text.contains("\r\nconnection: close\r\n"))
    }

    func testStatsPage_prefixMatchAndOptions() {
        let p = page()
        XCTAssertTrue(Array("/stats".utf8).withUnsafeBytes { p.matches($0) })
        XCTAssertTrue(Array("/stats;csv".utf8).withUnsafeBytes { p.matches($0) })
        XCTAssertFalse(Array("/stat".utf8).withUnsafeBytes { p.matches($0) })
        XCTAssertFalse(Array("/other".utf8).withUnsafeBytes { p.matches($0) })
        XCTAssertEqual(StatsPageRequest(suffix: "").isCSV, false)
        let o = StatsPageRequest(suffix: ";csv;norefresh")
        XCTAssertTrue(o.isCSV)
        XCTAssertFalse(o.refreshes)
        XCTAssertTrue(StatsPageRequest(suffix: ";up;csv?x=1").isCSV)
        XCTAssertTrue(StatsPageRequest(suffix: ";up").onlyUp)
    }

    func testStatsHTML_oneTablePerProxy() {
        var s = StatsRow(kind: .server, proxy: "be", service: "s<1>")
        s["status"] = "no check"
        let rows = [
            StatsRow(kind: .frontend, proxy: "fe", service: "FRONTEND"), s,
            StatsRow(kind: .backend, proxy: "be", service: "BACKEND"),
        ]
        let html = StatsHTML.render(rows: rows, info: [("Pid", "1")], refreshSeconds: 5, version: "0.1.0")
        XCTAssertEqual(occurrences(of: "<table class=\"proxy\"", in: html), 2)
        XCTAssertTrue(html.contains("<meta http-equiv=\"refresh\" content=\"5\">"))
        XCTAssertTrue(html.contains("s&lt;1&gt;"))
        XCTAssertTrue(html.contains("class=\"server no_check\""))
    }

    // MARK: counters

    func testStatusClassCounts() {
        var c = StatusClassCounts()
        for status in [100, 200, 204, 301, 404, 503, 600, 0] { c.count(status) }
        XCTAssertEqual(c.informational, 1)
        XCTAssertEqual(c.success, 2)
        XCTAssertEqual(c.redirection, 1)
        XCTAssertEqual(c.clientError, 1)
        XCTAssertEqual(c.serverError, 1)
        XCTAssertEqual(c.other, 2)
        XCTAssertEqual(c.total, 8)
    }

    func testRateCounter_perTickDeltaAndMax() {
        var r = RateCounter()
        r.tick(total: 5)
        XCTAssertEqual(r.current, 5)
        r.tick(total: 7)
        XCTAssertEqual(r.current, 2)
        XCTAssertEqual(r.max, 5)
        r.tick(total: 7)
        XCTAssertEqual(r.current, 0)
    }

    private func occurrences(of needle: String, in text: String) -> Int {
        let n = Array(needle.utf8)
        let t = Array(text.utf8)
        guard t.count >= n.count else { return 0 }
        return (0...(t.count - n.count)).filter { Array(t[$0..<($0 + n.count)]) == n }.count
    }

    /// HAProxy's swrate: the plain mean (rounded up) until 1024 samples, then each sample replaces 1/1024 of the
    /// sum; maxima kept per column.
    func testTimeAverages_meanThenSlidingWindow() {
        var t = TimeAverages()
        t.add((queue: 0, connect: 1, response: 150, total: 160))
        t.add((queue: 0, connect: 2, response: 151, total: 170))
        t.add((queue: 3, connect: 0, response: 150, total: 155))
        XCTAssertEqual(t.samples, 3)
        XCTAssertEqual(t.response.average(samples: t.samples), 151)  // 451 / 3 rounded up
        XCTAssertEqual(t.queue.average(samples: t.samples), 1)
        XCTAssertEqual(t.total.max, 170)
        XCTAssertEqual(t.connect.max, 2)
        for _ in 0..<2000 { t.add((queue: 0, connect: 0, response: 10, total: 10)) }
        XCTAssertEqual(t.samples, TimeAverages.window)
        let slid = t.response.average(samples: t.samples)
        XCTAssertTrue((10...15).contains(slid), "old samples decay out of the window: \(slid)")
        XCTAssertEqual(t.response.max, 151)
    }
}
