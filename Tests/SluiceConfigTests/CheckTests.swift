// SPDX-License-Identifier: Apache-2.0
// Health checks and server connection options: `check`, `inter`, `fastinter`, `downinter`, `rise`, `fall`, `port`,
// `addr`, `check-ssl`, `observe`, `error-limit`, `on-error`, `send-proxy[-v2]`; `option httpchk`, `http-check send`
// and `http-check expect`; `option log-health-checks`.

import SluiceConfig
import XCTest

final class CheckTests: XCTestCase {
    private func servers(_ lines: String..., file: StaticString = #filePath, line: UInt = #line) -> [ServerConfig] {
        assertValid(inHTTPBackend(lines.joined(separator: "\n")), file: file, line: line)?.backend(named: "be")?
            .servers ?? []
    }

    private func backend(_ lines: String..., file: StaticString = #filePath, line: UInt = #line) -> ProxyConfig? {
        assertValid(inHTTPBackend(lines.joined(separator: "\n")), file: file, line: line)?.backend(named: "be")
    }

    // MARK: - server check options

    func testCheck_defaults_areHAProxys() {
        let check = servers().first?.options.check
        XCTAssertEqual(check, HealthCheckSettings())
        XCTAssertEqual(check?.isEnabled, false)
        XCTAssertEqual(check?.intervalMs, 2000)
        XCTAssertNil(check?.fastIntervalMs)
        XCTAssertNil(check?.downIntervalMs)
        XCTAssertEqual(check?.rise, 2)
        XCTAssertEqual(check?.fall, 3)
        XCTAssertEqual(check?.errorLimit, 10)
        XCTAssertEqual(check?.onError, .failCheck)
    }

    func testCheck_everyOption_isParsed() {
        let check = servers(
            "server s2 10.0.0.2:80 check inter 5s fastinter 500 downinter 1m rise 3 fall 2 port 8081 addr 10.0.0.9"
                + " check-ssl verify none observe layer4 error-limit 5 on-error mark-down"
        ).last?.options.check
        XCTAssertEqual(check?.isEnabled, true)
        XCTAssertEqual(check?.intervalMs, 5000)
        XCTAssertEqual(check?.fastIntervalMs, 500)
        XCTAssertEqual(check?.downIntervalMs, 60000)
        XCTAssertEqual(check?.rise, 3)
        XCTAssertEqual(check?.fall, 2)
        XCTAssertEqual(check?.port, 8081)
        XCTAssertEqual(check?.address, .ipv4(address: 0x0A00_0009, port: 0))
        XCTAssertEqual(check?.usesTLS, true)
        XCTAssertEqual(check?.observesLayer4, true)
        XCTAssertEqual(check?.errorLimit, 5)
        XCTAssertEqual(check?.onError, .markDown)
    }

    func testCheck_defaultServer_isInheritedAndOverridden() {
        let list = servers(
            "default-server check inter 3s fall 5 on-error sudden-death",
            "server s2 10.0.0.2:80",
            "server s3 10.0.0.3:80 no-check inter 1s",
            "server s4 10.0.0.4:80 addr db.internal on-error fastinter"
        )
        XCTAssertEqual(list.map(\.options.check.isEnabled), [false, true, false, true])
        XCTAssertEqual(list.map(\.options.check.intervalMs), [2000, 3000, 1000, 3000])
        XCTAssertEqual(list.map(\.options.check.fall), [3, 5, 5, 5])
        XCTAssertEqual(list.map(\.options.check.onError), [.failCheck, .suddenDeath, .suddenDeath, .fastInter])
        XCTAssertEqual(list.last?.options.check.address, .ipv4(address: 0x0A00_0005, port: 0))
    }

    func testCheck_errors_areAlerts() {
        assertDiagnostics(
            inHTTPBackend(
                "server s2 10.0.0.2:80 check inter 0",
                "server s3 10.0.0.3:80 check rise 0",
                "server s4 10.0.0.4:80 check port 70000",
                "server s5 10.0.0.5:80 check addr web",
                "server s6 10.0.0.6:80 observe layer7",
                "server s7 10.0.0.7:80 observe layer5",
                "server s8 10.0.0.8:80 on-error reboot",
                "server s9 10.0.0.9:80 check fastinter 2x",
                "server s10 10.0.0.10:80 error-limit x",
                "server s11 10.0.0.11:80 check inter"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : 'server be/s2' : 'inter' expects a time greater than 0",
                "[ALERT] parsing [t.cfg:12] : 'server be/s3' : 'rise' expects an integer of at least 1, got '0'",
                "[ALERT] parsing [t.cfg:13] : 'server be/s4' : 'port' expects a port from 1 to 65535, got '70000'",
                "[ALERT] parsing [t.cfg:14] : 'server be/s5' : 'addr' expects an IP address or a host name, got 'web'",
                "[ALERT] parsing [t.cfg:15] : 'server be/s6' : 'observe layer7' is not supported by sluice",
                "[ALERT] parsing [t.cfg:16] : 'server be/s7' : 'observe' expects 'layer4' or 'layer7', got 'layer5'",
                "[ALERT] parsing [t.cfg:17] : 'server be/s8' : 'on-error' expects 'fastinter', 'fail-check', 'sudden-death' or 'mark-down', got 'reboot'",
                "[ALERT] parsing [t.cfg:18] : 'fastinter': invalid time unit 'x' in '2x' (expected us, ms, s, m, h or d)",
                "[ALERT] parsing [t.cfg:19] : 'server be/s10' : 'error-limit' expects an integer of at least 1, got 'x'",
                "[ALERT] parsing [t.cfg:20] : 'server be/s11' : 'inter' expects an argument",
            ]
        )
    }

    // MARK: - PROXY protocol

    func testSendProxy_versions() {
        let list = servers(
            "server s2 10.0.0.2:80 send-proxy",
            "server s3 10.0.0.3:80 send-proxy-v2",
            "default-server send-proxy-v2",
            "server s4 10.0.0.4:80",
            "server s5 10.0.0.5:80 no-send-proxy-v2",
            "server s6 10.0.0.6:80 no-send-proxy"
        )
        XCTAssertEqual(list.map(\.options.proxyProtocol), [nil, .v1, .v2, .v2, nil, .v2])
    }

    func testSendProxy_withArgument_isUnknownOption() {
        assertDiagnostics(
            inHTTPBackend("server s2 10.0.0.2:80 send-proxy v2"),
            ["[ALERT] parsing [t.cfg:11] : 'server be/s2' : unknown option 'v2'"]
        )
    }

    // MARK: - option httpchk and http-check

    func testHTTPCheck_optionForms() {
        XCTAssertNil(backend()?.httpCheck)
        let plain = backend("option httpchk")?.httpCheck
        XCTAssertEqual(plain?.method, "OPTIONS")
        XCTAssertEqual(plain?.uri, "/")
        XCTAssertEqual(plain?.version, "HTTP/1.0")
        XCTAssertEqual(plain?.location, SourceLocation(file: "t.cfg", line: 11))
        XCTAssertEqual(backend("option httpchk /health")?.httpCheck?.uri, "/health")
        let full = backend("option httpchk HEAD /ping HTTP/1.1")?.httpCheck
        XCTAssertEqual(full?.method, "HEAD")
        XCTAssertEqual(full?.uri, "/ping")
        XCTAssertEqual(full?.version, "HTTP/1.1")
        XCTAssertNil(backend("option httpchk", "no option httpchk")?.httpCheck)
    }

    func testHTTPCheck_optionErrors_areAlerts() {
        assertDiagnostics(
            inHTTPBackend(
                "option httpchk GET / HTTP/1.1\\r\\nHost:\\ www",
                "option httpchk GET / HTTP/2",
                "option httpchk a b c d"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : headers after the version in 'option httpchk' are not supported by sluice; use 'http-check send hdr'",
                "[ALERT] parsing [t.cfg:12] : 'option httpchk' expects version 'HTTP/1.0' or 'HTTP/1.1', got 'HTTP/2'",
                "[ALERT] parsing [t.cfg:13] : 'option httpchk' cannot handle unexpected argument 'd'",
            ]
        )
        assertDiagnostics(
            inHTTPFrontend("option httpchk"),
            ["[WARNING] parsing [t.cfg:11] : 'option httpchk' ignored because frontend 'fe' has no backend capability"]
        )
    }

    func testHTTPCheck_sendAndExpect_areFolded() {
        let check = backend(
            "http-check expect ! status 500-599",
            "option httpchk GET /",
            "http-check send meth HEAD uri /health ver HTTP/1.1 hdr Host example.com body ping"
        )?.httpCheck
        XCTAssertEqual(check?.method, "HEAD")
        XCTAssertEqual(check?.uri, "/health")
        XCTAssertEqual(check?.version, "HTTP/1.1")
        XCTAssertEqual(check?.headers, [HTTPHeaderField(name: "Host", value: LogFormat(literal: "example.com"))])
        XCTAssertEqual(check?.body, "ping")
        XCTAssertEqual(check?.expect?.match, .status([500...599]))
        XCTAssertEqual(check?.expect?.isNegated, true)
        XCTAssertEqual(check?.expect?.location, SourceLocation(file: "t.cfg", line: 11))
    }

    func testHTTPCheck_expectForms() {
        XCTAssertEqual(
            backend("option httpchk", "http-check expect status 200,301-308")?.httpCheck?.expect?.match,
            .status([200...200, 301...308])
        )
        let regex = backend("option httpchk", "http-check expect !rstatus ^5")?.httpCheck?.expect
        XCTAssertEqual(regex?.match, .statusRegex("^5"))
        XCTAssertEqual(regex?.isNegated, true)
        XCTAssertNil(backend("option httpchk")?.httpCheck?.expect)
    }

    func testHTTPCheck_fromDefaults_isInheritedAndReplaced() {
        let text =
            httpDefaults.replacingOccurrences(of: "\n\n", with: "\n")
            + "    option httpchk GET /health\n    http-check expect status 200\n"
            + "frontend fe\n  bind :80\n  default_backend be\n"
            + "backend be\n  http-check expect status 204\n  server s 127.0.0.1:1 check\n"
            + "backend be2\n  server s 127.0.0.1:2 check\n"
        let config = assertValid(text + "frontend fe2\n  bind :81\n  default_backend be2\n")
        XCTAssertEqual(config?.backend(named: "be")?.httpCheck?.expect?.match, .status([204...204]))
        XCTAssertEqual(config?.backend(named: "be2")?.httpCheck?.expect?.match, .status([200...200]))
        XCTAssertEqual(config?.backend(named: "be2")?.httpCheck?.uri, "/health")
        XCTAssertNil(config?.frontends.first?.httpCheck)
    }

    func testHTTPCheck_rulesWithoutOption_areIgnoredWithWarning() {
        let result = parse(inHTTPBackend("http-check expect status 200"))
        XCTAssertEqual(
            result.diagnostics.map(\.rendered),
            [
                "[WARNING] parsing [t.cfg:11] : backend 'be' uses http-check rules without 'option httpchk', so the rules are ignored"
            ]
        )
        XCTAssertNil(result.configuration?.backend(named: "be")?.httpCheck)
    }

    func testHTTPCheck_errors_areAlerts() {
        assertDiagnostics(
            inHTTPBackend(
                "option httpchk",
                "http-check expect status 200-abc",
                "http-check expect string OK",
                "http-check expect",
                "http-check expect rstatus (",
                "http-check expect status 200",
                "http-check expect status 204",
                "http-check disable-on-404",
                "http-check sned meth GET",
                "http-check send meth",
                "http-check send hdr X %[src]",
                "http-check send uri-lf /%[src]",
                "http-check expect status 200 extra",
                "http-check send meth GET",
                "http-check send meth HEAD"
            ),
            [
                "[ALERT] parsing [t.cfg:12] : 'http-check expect status': invalid status code or range '200-abc'",
                "[ALERT] parsing [t.cfg:13] : 'http-check expect string' is not supported by sluice",
                "[ALERT] parsing [t.cfg:14] : 'http-check expect' expects [!] 'status' or 'rstatus' and a pattern",
                "[ALERT] parsing [t.cfg:15] : 'http-check expect rstatus': invalid regex '(': Unmatched ( or \\(",
                "[ALERT] parsing [t.cfg:17] : only one 'http-check expect' per section is supported by sluice (first one at t.cfg:16)",
                "[ALERT] parsing [t.cfg:18] : 'http-check disable-on-404' is not supported by sluice",
                "[ALERT] parsing [t.cfg:19] : unknown keyword 'sned' for 'http-check'; did you mean 'send'?",
                "[ALERT] parsing [t.cfg:20] : 'http-check send': 'meth' expects an argument",
                "[ALERT] parsing [t.cfg:21] : 'http-check send hdr': log-format values are not supported by sluice",
                "[ALERT] parsing [t.cfg:22] : 'http-check send uri-lf' is not supported by sluice",
                "[ALERT] parsing [t.cfg:23] : 'http-check expect status' cannot handle unexpected argument 'extra'",
                "[ALERT] parsing [t.cfg:25] : only one 'http-check send' per section is supported by sluice",
            ]
        )
    }

    func testHTTPCheck_inFrontend_isAlert() {
        assertDiagnostics(
            inHTTPFrontend("http-check expect status 200"),
            ["[ALERT] parsing [t.cfg:11] : 'http-check' not allowed because frontend 'fe' has no backend capability"]
        )
    }

    // MARK: - option log-health-checks

    func testLogHealthChecks_option() {
        XCTAssertEqual(backend()?.logsHealthChecks, false)
        XCTAssertEqual(backend("option log-health-checks")?.logsHealthChecks, true)
        XCTAssertEqual(backend("option log-health-checks", "no option log-health-checks")?.logsHealthChecks, false)
        assertDiagnostics(
            inHTTPBackend("option log-health-checks now"),
            ["[ALERT] parsing [t.cfg:11] : 'option log-health-checks now' is not supported by sluice"]
        )
    }
}
