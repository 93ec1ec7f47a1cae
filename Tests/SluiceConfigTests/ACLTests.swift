// SPDX-License-Identifier: Apache-2.0
// ACLs, conditions and tcp-request rules: named and anonymous ACLs, predefined ones, `!`, `||`/`or`, implicit AND,
// supported fetches and the refusal of HTTP/TLS fetches, converters and pattern files.

import SluiceConfig
import XCTest

final class ACLTests: XCTestCase {
    private func frontend(_ lines: String..., file: StaticString = #filePath, line: UInt = #line) -> ProxyConfig? {
        let text =
            baseDefaults + "backend be\n  server s1 127.0.0.1:9000\nfrontend fe\n  bind :8080\n  default_backend be\n"
            + lines.map { $0 + "\n" }.joined()
        return assertValid(text, file: file, line: line)?.frontends.first
    }

    func testACL_src_isNamedTest() {
        let fe = frontend("acl internal src 10.0.0.0/8 192.168.1.1 ::1 fd00::/8 172.16.0.0/255.240.0.0")
        XCTAssertEqual(fe?.acls.count, 1)
        XCTAssertEqual(fe?.acls[0].name, "internal")
        let test = fe?.acls[0].tests.first
        XCTAssertEqual(test?.fetch, SampleFetch(name: "src"))
        XCTAssertEqual(test?.method, .ip)
        XCTAssertEqual(test?.patterns, ["10.0.0.0/8", "192.168.1.1", "::1", "fd00::/8", "172.16.0.0/12"])
        XCTAssertEqual(test?.location, SourceLocation(file: "t.cfg", line: 11))
    }

    func testACL_sameNameTwice_addsTests() {
        let fe = frontend("acl a src 10.0.0.1", "acl a dst 10.0.0.2", "tcp-request connection reject if a")
        XCTAssertEqual(fe?.acls.count, 1)
        XCTAssertEqual(fe?.acls[0].tests.map(\.fetch.name), ["src", "dst"])
    }

    func testACL_dstPortPatterns_areValidated() {
        let fe = frontend("acl p dst_port -- 80 8000:8080 :1024 eq 443 gt 60000", "acl n dst_port -1")
        XCTAssertEqual(fe?.acls[0].tests[0].method, .integer)
        XCTAssertEqual(fe?.acls[0].tests[0].patterns, ["80", "8000:8080", ":1024", "eq 443", "gt 60000"])
        XCTAssertEqual(fe?.acls[1].tests[0].patterns, ["-1"])
    }

    func testACL_alwaysTrueAndFlags() {
        let fe = frontend("acl t always_true", "acl i src -i -m ip 1.2.3.4", "acl f src -m found")
        XCTAssertEqual(fe?.acls[0].tests[0].method, .boolean)
        XCTAssertEqual(fe?.acls[1].tests[0].ignoreCase, true)
        XCTAssertEqual(fe?.acls[2].tests[0].method, .found)
    }

    func testACL_hostNamePattern_isResolved() {
        XCTAssertEqual(frontend("acl db src db.internal")?.acls[0].tests[0].patterns, ["10.0.0.5"])
    }

    func testACL_noPattern_isWarning() {
        assertDiagnostics(
            inFrontend("acl a src"),
            [
                "[WARNING] parsing [t.cfg:11] : ACL 'a': no pattern to match against, so this ACL never matches (add '--' to silence this)"
            ]
        )
    }

    func testACL_missingFetch_isAlert() {
        assertDiagnostics(
            inFrontend("acl a"),
            ["[ALERT] parsing [t.cfg:11] : 'acl' expects an ACL name and a fetch method"]
        )
    }

    func testACL_badName_isAlert() {
        assertDiagnostics(
            inFrontend("acl a/b src 1.2.3.4"),
            ["[ALERT] parsing [t.cfg:11] : character '/' is not permitted in ACL name 'a/b'"]
        )
    }

    func testACL_unsupportedFetches_areAlerts() {
        assertDiagnostics(
            inFrontend("acl a req.cook(sid) x", "acl b sc0_http_req_rate gt 10", "acl c base32 1"),
            [
                "[ALERT] parsing [t.cfg:11] : ACL 'a': fetch 'req.cook' is not supported by sluice",
                "[ALERT] parsing [t.cfg:12] : ACL 'b': fetch 'sc0_http_req_rate' is not supported by sluice",
                "[ALERT] parsing [t.cfg:13] : ACL 'c': fetch 'base32' is not supported by sluice",
            ]
        )
    }

    func testACL_unknownFetch_isAlertWithSuggestion() {
        assertDiagnostics(
            inFrontend("acl a srcc 1.2.3.4"),
            ["[ALERT] parsing [t.cfg:11] : ACL 'a': unknown fetch method 'srcc'; did you mean 'src'?"]
        )
    }

    func testACL_converter_isNotSupported() {
        assertDiagnostics(
            inFrontend("acl a src,ipmask(24) 10.0.0.0", "acl b src,nonsense 1.2.3.4", "acl c src, 1.2.3.4"),
            [
                "[ALERT] parsing [t.cfg:11] : ACL 'a': converter 'ipmask' is not supported by sluice",
                "[ALERT] parsing [t.cfg:12] : ACL 'b': unknown converter 'nonsense'",
                "[ALERT] parsing [t.cfg:13] : ACL 'c': missing converter name after ',' in 'src,'",
            ]
        )
    }

    func testACL_fetchArgument_isAlert() {
        assertDiagnostics(
            inFrontend("acl a src(2) 1.2.3.4"),
            ["[ALERT] parsing [t.cfg:11] : ACL 'a': fetch 'src' takes no argument, got '2'"]
        )
    }

    func testACL_badIPPattern_isAlert() {
        assertDiagnostics(
            inFrontend("acl a src 10.0.0.0/33"),
            ["[ALERT] parsing [t.cfg:11] : ACL 'a': invalid IP address or network '10.0.0.0/33' for fetch 'src'"]
        )
    }

    func testACL_badPortPattern_isAlert() {
        assertDiagnostics(
            inFrontend("acl a dst_port http"),
            ["[ALERT] parsing [t.cfg:11] : ACL 'a': invalid integer or range 'http' for fetch 'dst_port'"]
        )
    }

    func testACL_operatorWithoutValue_isAlert() {
        assertDiagnostics(
            inFrontend("acl a dst_port gt"),
            ["[ALERT] parsing [t.cfg:11] : ACL 'a': operator 'gt' expects an integer"]
        )
    }

    func testACL_patternForAlwaysTrue_isAlert() {
        assertDiagnostics(
            inFrontend("acl a always_true 1"),
            ["[ALERT] parsing [t.cfg:11] : ACL 'a': fetch 'always_true' takes no pattern, got '1'"]
        )
    }

    func testACL_flags_unsupportedUnknownAndMethods() {
        assertDiagnostics(
            inFrontend(
                "acl a src -n 1.2.3.4",
                "acl b src -z 1.2.3.4",
                "acl c src -m beg 1.2",
                "acl d src -m nope 1",
                "acl e src -m"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : ACL 'a': ACL flag '-n' is not supported by sluice",
                "[ALERT] parsing [t.cfg:12] : ACL 'b': '-z' is not a valid ACL option; use '--' before a pattern that starts with '-'",
                "[ALERT] parsing [t.cfg:13] : ACL 'c': match method 'beg' with fetch 'src' is not supported by sluice",
                "[ALERT] parsing [t.cfg:14] : ACL 'd': unknown match method 'nope'",
                "[ALERT] parsing [t.cfg:15] : ACL 'e': '-m' expects a match method",
            ]
        )
    }

    func testACL_inDefaults_isNotSupported() {
        assertDiagnostics(
            inDefaults("acl a src 1.2.3.4"),
            ["[ALERT] parsing [t.cfg:6] : 'acl' in a 'defaults' section is not supported by sluice"]
        )
    }

    func testCondition_orAndNotAndImplicitAnd() {
        let fe = frontend(
            "acl a src 10.0.0.1",
            "acl b dst_port 80",
            "acl c src 10.0.0.2",
            "use_backend be if a !b || c or !a c"
        )
        let condition = fe?.backendSwitchRules.first?.condition
        XCTAssertEqual(condition?.polarity, .ifTrue)
        XCTAssertEqual(
            condition?.alternatives,
            [
                [.init(negated: false, aclIndex: 0), .init(negated: true, aclIndex: 1)],
                [.init(negated: false, aclIndex: 2)],
                [.init(negated: true, aclIndex: 0), .init(negated: false, aclIndex: 2)],
            ]
        )
    }

    func testCondition_anonymousACL_isAddedToProxy() {
        let fe = frontend("use_backend be unless !{ src 10.0.0.0/8 } { dst_port 443 }")
        XCTAssertEqual(fe?.acls.map(\.name), [nil, nil])
        XCTAssertEqual(fe?.acls[0].tests[0].patterns, ["10.0.0.0/8"])
        let condition = fe?.backendSwitchRules.first?.condition
        XCTAssertEqual(condition?.polarity, .unless)
        XCTAssertEqual(
            condition?.alternatives,
            [[.init(negated: true, aclIndex: 0), .init(negated: false, aclIndex: 1)]]
        )
    }

    func testCondition_loneBang_negatesNextTerm() {
        let fe = frontend("acl a src 1.2.3.4", "use_backend be if ! a")
        XCTAssertEqual(fe?.backendSwitchRules.first?.condition?.alternatives, [[.init(negated: true, aclIndex: 0)]])
    }

    func testCondition_predefinedACLs_areMaterialized() {
        let fe = frontend("use_backend be if LOCALHOST || TRUE", "use_backend be if !FALSE LOCALHOST")
        XCTAssertEqual(fe?.acls.map(\.name), ["LOCALHOST", "TRUE", "FALSE"])
        XCTAssertEqual(fe?.acls[0].tests[0].patterns, ["127.0.0.1/8", "::1"])
        XCTAssertEqual(fe?.acls[1].tests[0].fetch.name, "always_true")
        XCTAssertEqual(
            fe?.backendSwitchRules[1].condition?.alternatives,
            [[.init(negated: true, aclIndex: 2), .init(negated: false, aclIndex: 0)]]
        )
    }

    func testCondition_unsupportedPredefinedACL_isAlert() {
        assertDiagnostics(
            inFrontend("use_backend be if RDP_COOKIE"),
            ["[ALERT] parsing [t.cfg:11] : predefined ACL 'RDP_COOKIE' is not supported by sluice"]
        )
    }

    func testCondition_undefinedACL_isAlertWithSuggestion() {
        assertDiagnostics(
            inFrontend("acl internal src 10.0.0.0/8", "use_backend be if interal"),
            ["[ALERT] parsing [t.cfg:12] : no such ACL: 'interal'; did you mean 'internal'?"]
        )
    }

    func testCondition_aclDeclaredAfterUse_isUndefined() {
        assertDiagnostics(
            inFrontend("use_backend be if late", "acl late src 1.2.3.4"),
            ["[ALERT] parsing [t.cfg:11] : no such ACL: 'late'"]
        )
    }

    func testCondition_referenceToFailedACL_isNotReportedTwice() {
        assertDiagnostics(
            inFrontend("acl api req.cook(x) /api", "use_backend be if api or !api || TRUE"),
            ["[ALERT] parsing [t.cfg:11] : ACL 'api': fetch 'req.cook' is not supported by sluice"]
        )
    }

    func testCondition_syntaxErrors_areAlerts() {
        assertDiagnostics(
            inFrontend(
                "use_backend be if",
                "use_backend be if { src 1.2.3.4",
                "use_backend be if { }",
                "use_backend be if || TRUE",
                "use_backend be if TRUE ||",
                "use_backend be if }",
                "use_backend be if !",
                "use_backend be if { req.cook(x) y }"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : missing condition after 'if'",
                "[ALERT] parsing [t.cfg:12] : missing closing '}' in condition",
                "[ALERT] parsing [t.cfg:13] : empty anonymous ACL '{ }' in condition",
                "[ALERT] parsing [t.cfg:14] : '||' without a condition on its left",
                "[ALERT] parsing [t.cfg:15] : '||' without a condition on its right",
                "[ALERT] parsing [t.cfg:16] : unexpected '}' in condition",
                "[ALERT] parsing [t.cfg:17] : '!' without a condition after it",
                "[ALERT] parsing [t.cfg:18] : anonymous ACL: fetch 'req.cook' is not supported by sluice",
            ]
        )
    }

    func testTCPRequest_connectionAndContentRules() {
        let fe = frontend(
            "acl blocked src 192.0.2.0/24",
            "tcp-request inspect-delay 5s",
            "tcp-request connection reject if blocked",
            "tcp-request connection accept",
            "tcp-request content accept if { dst_port 443 }",
            "tcp-request content reject unless TRUE"
        )
        XCTAssertEqual(fe?.inspectDelayMs, 5000)
        let rules = fe?.tcpRequestRules
        XCTAssertEqual(rules?.map(\.stage), [.connection, .connection, .content, .content])
        XCTAssertEqual(rules?.map(\.action), [.reject, .accept, .accept, .reject])
        XCTAssertNil(rules?[1].condition)
        XCTAssertEqual(rules?[3].condition?.polarity, .unless)
        XCTAssertEqual(rules?[0].location, SourceLocation(file: "t.cfg", line: 13))
    }

    func testTCPRequest_contentInBackend_isAllowed() {
        let config = assertValid(inBackend("tcp-request content reject if FALSE"))
        XCTAssertEqual(config?.backend(named: "be")?.tcpRequestRules.count, 1)
    }

    func testTCPRequest_inspectDelayInDefaults_isInherited() {
        XCTAssertEqual(assertValid(inDefaults("tcp-request inspect-delay 2s"))?.frontends.first?.inspectDelayMs, 2000)
    }

    func testTCPRequest_errors_areAlerts() {
        assertDiagnostics(
            inFrontend(
                "tcp-request",
                "tcp-request nonsense",
                "tcp-request connection",
                "tcp-request connection track-sc0 src",
                "tcp-request content set-var(txn.x) str(1)",
                "tcp-request connection acept",
                "tcp-request session accept",
                "tcp-request connection accept when x",
                "tcp-request inspect-delay",
                "tcp-request inspect-delay 5q"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : 'tcp-request' expects 'inspect-delay', 'connection', 'session' or 'content'",
                "[ALERT] parsing [t.cfg:12] : 'tcp-request' expects 'inspect-delay', 'connection', 'session' or 'content', got 'nonsense'",
                "[ALERT] parsing [t.cfg:13] : 'tcp-request connection' expects an action ('accept' or 'reject')",
                "[ALERT] parsing [t.cfg:14] : 'tcp-request connection track-sc0' is not supported by sluice",
                "[ALERT] parsing [t.cfg:15] : 'tcp-request content set-var' is not supported by sluice",
                "[ALERT] parsing [t.cfg:16] : unknown action 'acept' for 'tcp-request connection'; did you mean 'accept'?",
                "[ALERT] parsing [t.cfg:17] : 'tcp-request session' is not supported by sluice",
                "[ALERT] parsing [t.cfg:18] : 'tcp-request connection accept' expects 'if' or 'unless' followed by a condition, got 'when'",
                "[ALERT] parsing [t.cfg:19] : 'tcp-request inspect-delay' expects a time value",
                "[ALERT] parsing [t.cfg:20] : 'tcp-request inspect-delay': invalid time unit 'q' in '5q' (expected us, ms, s, m, h or d)",
            ]
        )
    }

    func testTCPRequest_connectionInBackend_isAlert() {
        assertDiagnostics(
            inBackend("tcp-request connection reject"),
            [
                "[ALERT] parsing [t.cfg:11] : 'tcp-request connection' not allowed because backend 'be' has no frontend capability"
            ]
        )
    }

    func testTCPRequest_rulesInDefaults_areNotSupported() {
        assertDiagnostics(
            inDefaults("tcp-request content accept"),
            [
                "[ALERT] parsing [t.cfg:6] : 'tcp-request content' rules in a 'defaults' section are not supported by sluice"
            ]
        )
    }

    func testTCPRequest_badCondition_isAlert() {
        assertDiagnostics(
            inFrontend("tcp-request connection reject if nope"),
            ["[ALERT] parsing [t.cfg:11] : no such ACL: 'nope'"]
        )
    }
}
