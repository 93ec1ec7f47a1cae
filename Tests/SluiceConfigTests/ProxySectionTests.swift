// SPDX-License-Identifier: Apache-2.0
// Proxy keywords (mode, maxconn, default_backend, use_backend, balance, hash-type, retries, timeout, option, log),
// each valid and invalid, and keywords used in a section that cannot hold them.

import SluiceConfig
import XCTest

final class ProxySectionTests: XCTestCase {
    private func frontend(_ config: Configuration?) -> ProxyConfig? { config?.frontends.first }
    private func backend(_ config: Configuration?) -> ProxyConfig? { config?.backend(named: "be") }

    func testMode_http_isParsedIntoModelAndRuns() {
        let text =
            baseDefaults + """
                frontend fe
                    mode http
                    bind :80
                    default_backend be
                backend be
                    mode http
                    server s1 127.0.0.1:9000

                """
        let config = assertValid(text)
        XCTAssertEqual(config?.proxies.map(\.mode), [.http, .http])
        XCTAssertEqual(config.map { ConfigLoader.unsupportedFeatureCheck($0) }, [])
    }

    func testMode_tcp_isDefaultAndPassesFeatureCheck() {
        let config = assertValid(inFrontend())
        XCTAssertEqual(frontend(config)?.mode, .tcp)
        XCTAssertEqual(config.map { ConfigLoader.unsupportedFeatureCheck($0) }, [])
    }

    func testMode_unknown_isAlert() {
        assertDiagnostics(
            inFrontend("mode udp"),
            ["[ALERT] parsing [t.cfg:11] : 'mode' expects 'tcp' or 'http', got 'udp'"]
        )
    }

    func testMode_health_isNotSupported() {
        assertDiagnostics(
            inFrontend("mode health"),
            ["[ALERT] parsing [t.cfg:11] : 'mode health' is not supported by sluice"]
        )
    }

    func testMode_extraArgument_isAlert() {
        assertDiagnostics(
            inFrontend("mode tcp x"),
            ["[ALERT] parsing [t.cfg:11] : 'mode' cannot handle unexpected argument 'x'"]
        )
    }

    func testMaxconn_frontend_isSet() {
        XCTAssertEqual(frontend(assertValid(inFrontend("maxconn 100"))).flatMap(\.maxconn), 100)
    }

    func testMaxconn_zero_isAlert() {
        assertDiagnostics(
            inFrontend("maxconn 0"),
            ["[ALERT] parsing [t.cfg:11] : 'maxconn' expects an integer from 1 to 2147483647, got '0'"]
        )
    }

    func testMaxconn_inBackend_isIgnoredWithWarning() {
        let result = parse(inBackend("maxconn 100"))
        XCTAssertEqual(
            result.diagnostics.map(\.rendered),
            ["[WARNING] parsing [t.cfg:11] : 'maxconn' ignored because backend 'be' has no frontend capability"]
        )
        XCTAssertNil(result.configuration?.backend(named: "be")?.maxconn)
    }

    func testDefaultBackend_valid_isSet() {
        XCTAssertEqual(frontend(assertValid(inFrontend()))?.defaultBackend, "be")
    }

    func testDefaultBackend_missingName_isAlert() {
        assertDiagnostics(
            inFrontend("default_backend"),
            ["[ALERT] parsing [t.cfg:11] : 'default_backend' expects a backend name"]
        )
    }

    func testDefaultBackend_extraArgument_isAlert() {
        assertDiagnostics(
            inFrontend("default_backend be other"),
            ["[ALERT] parsing [t.cfg:11] : 'default_backend' cannot handle unexpected argument 'other'"]
        )
    }

    func testDefaultBackend_inBackend_isAlert() {
        assertDiagnostics(
            inBackend("default_backend be"),
            [
                "[ALERT] parsing [t.cfg:11] : 'default_backend' not allowed because backend 'be' has no frontend capability"
            ]
        )
    }

    func testUseBackend_withCondition_isRule() {
        let rules = frontend(assertValid(inFrontend("use_backend be if { dst_port 8080 }", "use_backend be")))?
            .backendSwitchRules
        XCTAssertEqual(rules?.count, 2)
        XCTAssertEqual(rules?[0].backend, "be")
        XCTAssertEqual(rules?[0].condition?.polarity, .ifTrue)
        XCTAssertEqual(rules?[0].location, SourceLocation(file: "t.cfg", line: 11))
        XCTAssertNil(rules?[1].condition)
    }

    func testUseBackend_missingName_isAlert() {
        assertDiagnostics(
            inFrontend("use_backend"),
            ["[ALERT] parsing [t.cfg:11] : 'use_backend' expects a backend name"]
        )
    }

    func testUseBackend_garbageAfterName_isAlert() {
        assertDiagnostics(
            inFrontend("use_backend be when x"),
            [
                "[ALERT] parsing [t.cfg:11] : 'use_backend be' expects 'if' or 'unless' followed by a condition, got 'when'"
            ]
        )
    }

    func testUseBackend_dynamicName_isNotSupported() {
        assertDiagnostics(
            inFrontend("use_backend %[req.hdr(host)]"),
            ["[ALERT] parsing [t.cfg:11] : dynamic backend name '%[req.hdr(host)]' is not supported by sluice"]
        )
    }

    func testUseBackend_inBackend_isAlert() {
        assertDiagnostics(
            inBackend("use_backend be"),
            ["[ALERT] parsing [t.cfg:11] : 'use_backend' not allowed because backend 'be' has no frontend capability"]
        )
    }

    func testBalance_everyAlgorithm_isParsed() {
        let cases: [(String, BalanceAlgorithm)] = [
            ("roundrobin", .roundRobin), ("static-rr", .staticRoundRobin), ("leastconn", .leastConn), ("first", .first),
            ("source", .source), ("uri", .uri), ("random", .random(draws: 2)), ("random(5)", .random(draws: 5)),
        ]
        for (word, algorithm) in cases {
            XCTAssertEqual(backend(assertValid(inBackend("balance \(word)")))?.balance, algorithm, word)
        }
    }

    func testBalance_default_isRoundRobin() {
        XCTAssertEqual(backend(assertValid(inBackend()))?.balance, .roundRobin)
    }

    func testBalance_unknown_isAlertWithSuggestion() {
        assertDiagnostics(
            inBackend("balance roundrobbin"),
            ["[ALERT] parsing [t.cfg:11] : unknown balance algorithm 'roundrobbin'; did you mean 'roundrobin'?"]
        )
    }

    func testBalance_unsupported_isAlert() {
        assertDiagnostics(
            inBackend("balance hdr(host)"),
            ["[ALERT] parsing [t.cfg:11] : 'balance hdr' is not supported by sluice"]
        )
    }

    func testBalance_randomZeroDraws_isAlert() {
        assertDiagnostics(
            inBackend("balance random(0)"),
            ["[ALERT] parsing [t.cfg:11] : 'balance random' expects a number of draws of at least 1, as in 'random(2)'"]
        )
    }

    func testBalance_uriOptions_areNotSupported() {
        assertDiagnostics(
            inBackend("balance uri whole"),
            ["[ALERT] parsing [t.cfg:11] : 'balance uri whole' is not supported by sluice"]
        )
    }

    func testBalance_inFrontend_isAlert() {
        assertDiagnostics(
            inFrontend("balance roundrobin"),
            ["[ALERT] parsing [t.cfg:11] : 'balance' not allowed because frontend 'fe' has no backend capability"]
        )
    }

    func testHashType_consistent_isSet() {
        XCTAssertEqual(backend(assertValid(inBackend("hash-type consistent")))?.hashType, .consistent)
        XCTAssertEqual(backend(assertValid(inBackend("hash-type map-based")))?.hashType, .mapBased)
    }

    func testHashType_unknown_isAlert() {
        assertDiagnostics(
            inBackend("hash-type ring"),
            ["[ALERT] parsing [t.cfg:11] : 'hash-type' expects 'map-based' or 'consistent', got 'ring'"]
        )
    }

    func testHashType_function_isNotSupported() {
        assertDiagnostics(
            inBackend("hash-type consistent sdbm"),
            ["[ALERT] parsing [t.cfg:11] : hash function 'sdbm' of 'hash-type' is not supported by sluice"]
        )
    }

    func testRetries_valid_isSet() {
        XCTAssertEqual(backend(assertValid(inBackend("retries 5")))?.retries, 5)
        XCTAssertEqual(backend(assertValid(inBackend()))?.retries, 3)
    }

    func testRetries_negative_isAlert() {
        assertDiagnostics(
            inBackend("retries -2"),
            ["[ALERT] parsing [t.cfg:11] : 'retries' expects an integer from 0 to 1000, got '-2'"]
        )
    }

    func testTimeouts_all_areParsed() {
        let text = inDefaults(
            "timeout tunnel 1h",
            "timeout client-fin 2s",
            "timeout server-fin 3s",
            "timeout queue 4s",
            "timeout http-request 5s",
            "timeout http-keep-alive 6s",
            "timeout check 7s"
        )
        let timeouts = backend(assertValid(text))?.timeouts
        XCTAssertEqual(timeouts?.connect, 1000)
        XCTAssertEqual(timeouts?.client, 1000)
        XCTAssertEqual(timeouts?.server, 1000)
        XCTAssertEqual(timeouts?.tunnel, 3_600_000)
        XCTAssertEqual(timeouts?.clientFin, 2000)
        XCTAssertEqual(timeouts?.serverFin, 3000)
        XCTAssertEqual(timeouts?.queue, 4000)
        XCTAssertEqual(timeouts?.httpRequest, 5000)
        XCTAssertEqual(timeouts?.httpKeepAlive, 6000)
        XCTAssertEqual(timeouts?.check, 7000)
    }

    func testTimeout_zero_meansNone() {
        let result = parse(inFrontend("timeout client 0"))
        XCTAssertNil(result.configuration?.frontends.first?.timeouts.client)
        XCTAssertEqual(
            result.diagnostics.map(\.rendered),
            ["[WARNING] parsing [t.cfg:8] : missing timeouts for frontend 'fe': please set 'timeout client'"]
        )
    }

    func testTimeout_unknownName_isAlertWithSuggestion() {
        assertDiagnostics(
            inFrontend("timeout clinet 5s"),
            ["[ALERT] parsing [t.cfg:11] : unknown timeout 'clinet'; did you mean 'client'?"]
        )
    }

    func testTimeout_tarpit_isNotSupported() {
        assertDiagnostics(
            inFrontend("timeout tarpit 5s"),
            ["[ALERT] parsing [t.cfg:11] : 'timeout tarpit' is not supported by sluice"]
        )
    }

    func testTimeout_missingValue_isAlert() {
        assertDiagnostics(
            inFrontend("timeout client"),
            ["[ALERT] parsing [t.cfg:11] : 'timeout client' expects a time value (<number>[us|ms|s|m|h|d])"]
        )
    }

    func testTimeout_extraValue_isAlert() {
        assertDiagnostics(
            inBackend("timeout connect 1s 2s"),
            ["[ALERT] parsing [t.cfg:11] : 'timeout connect' cannot handle unexpected argument '2s'"]
        )
    }

    func testTimeout_serverInFrontend_isIgnoredWithWarning() {
        assertDiagnostics(
            inFrontend("timeout server 5s"),
            ["[WARNING] parsing [t.cfg:11] : 'timeout server' ignored because frontend 'fe' has no backend capability"]
        )
    }

    func testDeprecatedTimeouts_areAlertsNamingReplacement() {
        assertDiagnostics(
            inDefaults("contimeout 5s", "clitimeout 5s", "srvtimeout 5s"),
            [
                "[ALERT] parsing [t.cfg:6] : 'contimeout' is not supported by sluice (removed in HAProxy 2.1): use 'timeout connect'",
                "[ALERT] parsing [t.cfg:7] : 'clitimeout' is not supported by sluice (removed in HAProxy 2.1): use 'timeout client'",
                "[ALERT] parsing [t.cfg:8] : 'srvtimeout' is not supported by sluice (removed in HAProxy 2.1): use 'timeout server'",
            ]
        )
    }

    func testOptionRedispatch_andNo_toggle() {
        XCTAssertEqual(backend(assertValid(inBackend("option redispatch")))?.redispatch, true)
        XCTAssertEqual(backend(assertValid(inBackend("option redispatch", "no option redispatch")))?.redispatch, false)
        XCTAssertEqual(backend(assertValid(inBackend("default option redispatch")))?.redispatch, false)
        XCTAssertEqual(backend(assertValid(inDefaults("option redispatch")))?.redispatch, true)
    }

    /// `default option` restores the defaults section's value (HAProxy's KWM_DEF), where `no option` turns it off.
    func testDefaultOption_takesTheDefaultsSectionValue() {
        let text = inDefaults("option redispatch", "option httpclose")
            + "backend be2\n    server s1 127.0.0.1:9001\n    no option redispatch\n    default option redispatch\n"
            + "    option http-server-close\n    default option http-server-close\n"
            + "backend be3\n    server s1 127.0.0.1:9002\n    no option redispatch\n"
            + "frontend fe2\n    bind :8081\n    use_backend be2 if TRUE\n    default_backend be3\n"
        let config = assertValid(text)
        let be2 = config?.proxies.first { $0.name == "be2" }
        let be3 = config?.proxies.first { $0.name == "be3" }
        XCTAssertEqual(be2?.redispatch, true)
        XCTAssertEqual(be2?.httpConnectionMode, .close)
        XCTAssertEqual(be3?.redispatch, false)
    }

    func testOptionRedispatch_inFrontend_isIgnoredWithWarning() {
        assertDiagnostics(
            inFrontend("option redispatch"),
            [
                "[WARNING] parsing [t.cfg:11] : 'option redispatch' ignored because frontend 'fe' has no backend capability"
            ]
        )
    }

    func testOptionRedispatch_withInterval_isNotSupported() {
        assertDiagnostics(
            inBackend("option redispatch 3"),
            ["[ALERT] parsing [t.cfg:11] : 'option redispatch 3' is not supported by sluice"]
        )
    }

    func testOptionTcplogHttplog_areSet() {
        let fe = frontend(assertValid(inFrontend("option tcplog", "option httplog")))
        XCTAssertEqual(fe?.tcpLog, true)
        XCTAssertEqual(fe?.httpLog, true)
    }

    func testOptionDontlognull_isSetAndInheritedFromDefaults() {
        let fe = frontend(assertValid(inFrontend("option dontlognull")))
        XCTAssertEqual(fe?.dontLogNull, true)
        let off = frontend(assertValid(inFrontend("option dontlognull", "no option dontlognull")))
        XCTAssertEqual(off?.dontLogNull, false)
    }

    func testOptionDontlognull_withArgument_isNotSupported() {
        assertDiagnostics(
            inFrontend("option dontlognull 1"),
            ["[ALERT] parsing [t.cfg:11] : 'option dontlognull 1' is not supported by sluice"]
        )
    }

    func testOptionHttplog_clf_isNotSupported() {
        assertDiagnostics(
            inFrontend("option httplog clf"),
            ["[ALERT] parsing [t.cfg:11] : 'option httplog clf' is not supported by sluice"]
        )
    }

    func testOptionHttplog_inBackend_isIgnoredWithWarning() {
        assertDiagnostics(
            inBackend("option httplog"),
            ["[WARNING] parsing [t.cfg:11] : 'option httplog' ignored because backend 'be' has no frontend capability"]
        )
    }

    func testOption_unsupported_isAlert() {
        assertDiagnostics(
            inFrontend("option http-buffer-request"),
            ["[ALERT] parsing [t.cfg:11] : 'option http-buffer-request' is not supported by sluice"]
        )
    }

    func testOption_unknown_isAlertWithSuggestion() {
        assertDiagnostics(
            inFrontend("option tcplogg"),
            ["[ALERT] parsing [t.cfg:11] : unknown option 'tcplogg'; did you mean 'tcplog'?"]
        )
    }

    func testOption_missingName_isAlert() {
        assertDiagnostics(inFrontend("option"), ["[ALERT] parsing [t.cfg:11] : 'option' expects an option name"])
    }

    func testNoPrefix_onOtherKeyword_isAlert() {
        assertDiagnostics(
            inFrontend("no maxconn"),
            ["[ALERT] parsing [t.cfg:11] : 'no' prefix is not supported for 'maxconn'"]
        )
    }

    func testLog_globalTargetAndNoLog() {
        let fe = frontend(assertValid(inFrontend("log global", "log 127.0.0.1:514 local0")))
        XCTAssertEqual(fe?.usesGlobalLog, true)
        XCTAssertEqual(fe?.logTargets.map(\.destination), [.udp(.ipv4(address: 0x7F00_0001, port: 514))])
        let none = frontend(assertValid(inFrontend("log global", "no log")))
        XCTAssertEqual(none?.usesGlobalLog, false)
        XCTAssertEqual(none?.logTargets.count, 0)
    }

    func testLog_inheritedFromDefaults() {
        XCTAssertEqual(frontend(assertValid(inDefaults("log global")))?.usesGlobalLog, true)
    }

    func testLog_badTarget_isAlert() {
        assertDiagnostics(
            inFrontend("log ring@buf local0"),
            ["[ALERT] parsing [t.cfg:11] : log target prefix 'ring@' is not supported by sluice"]
        )
    }

    func testLog_globalWithArgument_isAlert() {
        assertDiagnostics(
            inFrontend("log global now"),
            ["[ALERT] parsing [t.cfg:11] : 'log global' cannot handle unexpected argument 'now'"]
        )
    }

    func testNoLog_withArgument_isAlert() {
        assertDiagnostics(
            inFrontend("no log x"),
            ["[ALERT] parsing [t.cfg:11] : 'no log' cannot handle unexpected argument 'x'"]
        )
    }

    func testUnsupportedProxyKeywords_areOneAlertEach() {
        assertDiagnostics(
            inFrontend(
                "stats show-node",
                "http-request set-var(txn.x) str(y)",
                "stick-table type ip size 1m",
                "errorfiles site"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : 'stats show-node' is not supported by sluice",
                "[ALERT] parsing [t.cfg:12] : 'http-request set-var' is not supported by sluice",
                "[ALERT] parsing [t.cfg:13] : 'stick-table' is not supported by sluice",
                "[ALERT] parsing [t.cfg:14] : 'errorfiles' is not supported by sluice",
            ]
        )
    }

    func testUnknownProxyKeyword_suggestsClosest() {
        assertDiagnostics(
            inFrontend("defalt_backend be"),
            [
                "[ALERT] parsing [t.cfg:11] : unknown keyword 'defalt_backend' in 'frontend' section; did you mean 'default_backend'?"
            ]
        )
    }

    func testUnknownProxyKeyword_withoutCloseMatch_hasNoSuggestion() {
        assertDiagnostics(
            inBackend("rise 3"),
            ["[ALERT] parsing [t.cfg:11] : unknown keyword 'rise' in 'backend' section"]
        )
    }

    func testGlobalKeywordInProxy_isAlert() {
        assertDiagnostics(
            inFrontend("daemon"),
            ["[ALERT] parsing [t.cfg:11] : 'daemon' is not allowed in 'frontend' section (it is a 'global' keyword)"]
        )
    }

    func testServerInFrontend_isAlert() {
        assertDiagnostics(
            inFrontend("server s 127.0.0.1:1"),
            ["[ALERT] parsing [t.cfg:11] : 'server' not allowed because frontend 'fe' has no backend capability"]
        )
    }

    func testBindInBackend_isAlert() {
        assertDiagnostics(
            inBackend("bind :81"),
            ["[ALERT] parsing [t.cfg:11] : 'bind' not allowed because backend 'be' has no frontend capability"]
        )
    }

    func testBindServerUseBackendInDefaults_areAlerts() {
        assertDiagnostics(
            inDefaults("bind :81", "server s 127.0.0.1:1", "use_backend be"),
            [
                "[ALERT] parsing [t.cfg:6] : 'bind' not allowed in 'defaults' section",
                "[ALERT] parsing [t.cfg:7] : 'server' not allowed in 'defaults' section",
                "[ALERT] parsing [t.cfg:8] : 'use_backend' not allowed in 'defaults' section",
            ]
        )
    }

    func testListen_hasBothCapabilities() {
        let text =
            baseDefaults + """
                listen app
                    bind 127.0.0.1:7000
                    maxconn 50
                    balance leastconn
                    server a 127.0.0.1:7001
                    server b 127.0.0.1:7002 backup

                """
        let config = assertValid(text)
        XCTAssertEqual(config?.frontends.map(\.name), ["app"])
        XCTAssertEqual(config?.backends.map(\.name), ["app"])
        XCTAssertEqual(config?.proxies.first?.capabilities, .listen)
        XCTAssertEqual(config?.proxies.first?.servers.map(\.name), ["a", "b"])
    }
}
