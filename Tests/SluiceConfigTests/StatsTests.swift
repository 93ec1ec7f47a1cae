// SPDX-License-Identifier: Apache-2.0
// Statistics and administration: the proxy `stats` keywords (any of them enables the page) and the global
// `stats socket` / `stats timeout`.

import SluiceConfig
import XCTest

final class StatsTests: XCTestCase {
    private func stats(_ lines: String..., file: StaticString = #filePath, line: UInt = #line) -> StatsPage? {
        assertValid(inHTTPFrontend(lines.joined(separator: "\n")), file: file, line: line)?.frontends.first?.stats
    }

    // MARK: - proxy

    func testStats_everyKeyword_isParsed() {
        let page = stats(
            "stats enable",
            "stats uri /stats",
            "stats refresh 10s",
            "stats auth admin:s3cret:x",
            "stats auth ops:",
            "stats realm Haproxy\\ Statistics",
            "stats hide-version",
            "stats admin if LOCALHOST"
        )
        XCTAssertEqual(page?.uriPrefix, "/stats")
        XCTAssertEqual(page?.refreshMs, 10000)
        XCTAssertEqual(
            page?.credentials,
            [StatsCredential(user: "admin", password: "s3cret:x"), StatsCredential(user: "ops", password: "")]
        )
        XCTAssertEqual(page?.realm, "Haproxy Statistics")
        XCTAssertEqual(page?.hidesVersion, true)
        XCTAssertEqual(page?.adminCondition?.polarity, .ifTrue)
        XCTAssertEqual(page?.location, SourceLocation(file: "t.cfg", line: 11))
    }

    func testStats_absent_isNil() {
        XCTAssertNil(stats())
    }

    func testStats_enableAlone_hasHAProxysDefaults() {
        let page = stats("stats enable")
        XCTAssertEqual(page?.uriPrefix, "/haproxy?stats")
        XCTAssertNil(page?.refreshMs)
        XCTAssertNil(page?.realm)
        XCTAssertEqual(page?.credentials, [])
        XCTAssertNil(page?.adminCondition)
        XCTAssertEqual(page?.hidesVersion, false)
    }

    func testStats_uriWithoutEnable_enablesThePage() {
        XCTAssertEqual(stats("stats uri /")?.uriPrefix, "/")
    }

    func testStats_fromDefaults_isInherited() {
        let text =
            httpDefaults.replacingOccurrences(of: "\n\n", with: "\n") + "    stats enable\n    stats uri /st\n"
            + "listen admin\n  bind :8404\n  stats refresh 5s\n"
        let proxy = assertValid(text)?.proxies.first
        XCTAssertEqual(proxy?.stats?.uriPrefix, "/st")
        XCTAssertEqual(proxy?.stats?.refreshMs, 5000)
    }

    func testStats_errors_areAlerts() {
        assertDiagnostics(
            inHTTPFrontend(
                "stats",
                "stats uri",
                "stats auth admin",
                "stats auth haproxy haproxy",
                "stats auth :x",
                "stats refresh 5x",
                "stats admin",
                "stats admin if nope",
                "stats enabel",
                "stats show-legends",
                "stats socket /run/s",
                "stats enable now",
                "stats realm"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : 'stats' expects 'enable', 'uri', 'refresh', 'auth', 'realm', 'admin' or 'hide-version'",
                "[ALERT] parsing [t.cfg:12] : 'stats uri' expects a URI prefix",
                "[ALERT] parsing [t.cfg:13] : 'stats auth' expects <user>:<password>",
                "[ALERT] parsing [t.cfg:14] : 'stats auth' expects <user>:<password>",
                "[ALERT] parsing [t.cfg:15] : 'stats auth' expects <user>:<password>, got an empty user name",
                "[ALERT] parsing [t.cfg:16] : 'stats refresh': invalid time unit 'x' in '5x' (expected us, ms, s, m, h or d)",
                "[ALERT] parsing [t.cfg:17] : 'stats admin' expects 'if' or 'unless' followed by a condition",
                "[ALERT] parsing [t.cfg:18] : no such ACL: 'nope'",
                "[ALERT] parsing [t.cfg:19] : unknown keyword 'enabel' for 'stats'; did you mean 'enable'?",
                "[ALERT] parsing [t.cfg:20] : 'stats show-legends' is not supported by sluice",
                "[ALERT] parsing [t.cfg:21] : 'stats socket' is only allowed in the 'global' section",
                "[ALERT] parsing [t.cfg:22] : 'stats enable' cannot handle unexpected argument 'now'",
                "[ALERT] parsing [t.cfg:23] : 'stats realm' expects a realm name (escape spaces with '\\')",
            ]
        )
    }

    func testStats_adminInDefaults_isAlert() {
        assertDiagnostics(
            inDefaults("stats admin if TRUE"),
            ["[ALERT] parsing [t.cfg:6] : 'stats admin' not allowed in 'defaults' section"]
        )
    }

    // MARK: - global

    func testStatsSocket_forms() {
        let config = assertValid(
            inGlobal(
                "stats socket /run/sluice/admin.sock mode 600 level admin",
                "stats socket ipv4@127.0.0.1:9999 level user",
                "stats socket fd@${FD}",
                "stats socket unix@/run/sluice/op.sock mode 0660",
                "stats timeout 30s"
            )
        )
        let sockets = config?.global.statsSockets ?? []
        XCTAssertEqual(
            sockets.map(\.address),
            [
                .unix(path: "/run/sluice/admin.sock"), .inet(.ipv4(address: 0x7F00_0001, port: 9999)),
                .inheritedFD(3), .unix(path: "/run/sluice/op.sock"),
            ]
        )
        XCTAssertEqual(sockets.map(\.mode), [0o600, nil, nil, 0o660])
        XCTAssertEqual(sockets.map(\.level), [.admin, .user, .operator, .operator])
        XCTAssertEqual(sockets.first?.location, SourceLocation(file: "t.cfg", line: 2))
        XCTAssertEqual(config?.global.statsTimeoutMs, 30000)
    }

    func testStatsSocket_defaults() {
        let global = assertValid(inGlobal())?.global
        XCTAssertEqual(global?.statsSockets, [])
        XCTAssertEqual(global?.statsTimeoutMs, 10000)
        XCTAssertTrue(StatsLevel.user < StatsLevel.operator && StatsLevel.operator < StatsLevel.admin)
    }

    func testStatsSocket_exposeFD_isIgnoredWithWarning() {
        let result = parse(inGlobal("stats socket /run/s.sock mode 660 level admin expose-fd listeners"))
        XCTAssertEqual(
            result.diagnostics.map(\.rendered),
            [
                "[WARNING] parsing [t.cfg:2] : 'stats socket' : 'expose-fd listeners' ignored by sluice: reloads keep the listeners in-process"
            ]
        )
        XCTAssertEqual(result.configuration?.global.statsSockets.first?.level, .admin)
    }

    func testStatsSocket_errors_areAlerts() {
        assertDiagnostics(
            inGlobal(
                "stats socket",
                "stats socket * 1999 level admin",
                "stats socket /run/a level root",
                "stats socket /run/a mode 999",
                "stats socket /run/a user haproxy group haproxy",
                "stats socket /run/a levle admin",
                "stats socket /run/a expose-fd all",
                "stats socket 127.0.0.1:9000-9001",
                "stats timeout 30x",
                "stats timeout 0",
                "stats maxconn 10",
                "stats enable",
                "stats sockt /run/a"
            ),
            [
                "[ALERT] parsing [t.cfg:2] : 'stats socket' expects a socket path or <addr>:<port>",
                "[ALERT] parsing [t.cfg:3] : 'stats socket *' : missing port number in '*'",
                "[ALERT] parsing [t.cfg:4] : 'stats socket' : 'level' expects 'user', 'operator' or 'admin'",
                "[ALERT] parsing [t.cfg:5] : 'stats socket' : 'mode' expects an octal permission such as 600",
                "[ALERT] parsing [t.cfg:6] : stats socket option 'user' is not supported by sluice",
                "[ALERT] parsing [t.cfg:6] : stats socket option 'group' is not supported by sluice",
                "[ALERT] parsing [t.cfg:7] : 'stats socket' : unknown option 'levle'; did you mean 'level'?",
                "[ALERT] parsing [t.cfg:8] : 'stats socket' : 'expose-fd' expects 'listeners'",
                "[ALERT] parsing [t.cfg:9] : 'stats socket 127.0.0.1:9000-9001' : a port range is not allowed here",
                "[ALERT] parsing [t.cfg:10] : 'stats timeout': invalid time unit 'x' in '30x' (expected us, ms, s, m, h or d)",
                "[ALERT] parsing [t.cfg:11] : 'stats timeout' expects a positive time",
                "[ALERT] parsing [t.cfg:12] : 'stats maxconn' is not supported by sluice",
                "[ALERT] parsing [t.cfg:13] : 'stats enable' is not allowed in 'global' section (it is a proxy keyword)",
                "[ALERT] parsing [t.cfg:14] : unknown keyword 'sockt' for 'stats'; did you mean 'socket'?",
            ]
        )
    }
}
