// SPDX-License-Identifier: Apache-2.0
// HTTP proxy keywords: http-request and http-response rules, the redirect keyword, errorfile, http-reuse,
// option http-keep-alive|http-server-close|httpclose, option forwardfor, and what mode tcp does with them.

import Foundation
import SluiceConfig
import XCTest

final class HTTPRuleTests: XCTestCase {
    private func frontend(_ lines: String..., file: StaticString = #filePath, line: UInt = #line) -> ProxyConfig? {
        let text =
            httpDefaults + "backend be\n  server s1 127.0.0.1:9000\nfrontend fe\n  bind :8080\n  default_backend be\n"
            + lines.map { $0 + "\n" }.joined()
        return assertValid(text, file: file, line: line)?.frontends.first
    }

    private func requestActions(_ lines: String..., file: StaticString = #filePath, line: UInt = #line)
        -> [HTTPRequestRule.Action]
    {
        let text =
            httpDefaults + "backend be\n  server s1 127.0.0.1:9000\nfrontend fe\n  bind :8080\n  default_backend be\n"
            + lines.map { $0 + "\n" }.joined()
        return assertValid(text, file: file, line: line)?.frontends.first?.httpRequestRules.map(\.action) ?? []
    }

    // MARK: - header actions

    func testHeaderActions_areParsed() {
        let actions = requestActions(
            "http-request set-header X-Forwarded-Proto https if { ssl_fc }",
            "http-request add-header X-Client %[src]",
            "http-request del-header X-Forwarded-For",
            "http-request del-header ^X-Debug -m reg",
            "http-request del-header x-internal- -m beg",
            "http-request replace-header Host ^(.*):80$ \\1",
            "http-request replace-value X-Forwarded-For ^10\\..* hidden"
        )
        XCTAssertEqual(
            actions,
            [
                .header(.set(name: "X-Forwarded-Proto", value: LogFormat(literal: "https"))),
                .header(
                    .add(
                        name: "X-Client",
                        value: LogFormat(
                            parts: [.sample(SampleExpression(fetch: SampleFetch(name: "src")))],
                            text: "%[src]"
                        )
                    )
                ),
                .header(.delete(name: "X-Forwarded-For", method: .exact)),
                .header(.delete(name: "^X-Debug", method: .regex)),
                .header(.delete(name: "x-internal-", method: .prefix)),
                .header(.replaceHeader(name: "Host", regex: "^(.*):80$", replacement: LogFormat(literal: "\\1"))),
                .header(
                    .replaceValue(name: "X-Forwarded-For", regex: "^10\\..*", replacement: LogFormat(literal: "hidden"))
                ),
            ]
        )
    }

    func testHeaderActions_conditionAndLocation() {
        let rule = frontend("http-request set-header X y unless { src 10.0.0.0/8 }")?.httpRequestRules.first
        XCTAssertEqual(rule?.condition?.polarity, .unless)
        XCTAssertEqual(rule?.location, SourceLocation(file: "t.cfg", line: 11))
    }

    func testHeaderActions_errors_areAlerts() {
        assertDiagnostics(
            inHTTPFrontend(
                "http-request set-header X-Only",
                "http-request del-header",
                "http-request del-header X -m dom",
                "http-request replace-header Host (",
                "http-request replace-header Host ( x",
                "http-request set-header X %[nope]",
                "http-request set-header X y z",
                "http-response add-header X \"\""
            ),
            [
                "[ALERT] parsing [t.cfg:11] : 'http-request set-header' expects <name> and <fmt>",
                "[ALERT] parsing [t.cfg:12] : 'http-request del-header' expects a header name",
                "[ALERT] parsing [t.cfg:13] : 'http-request del-header': '-m' expects str, beg, end, sub or reg",
                "[ALERT] parsing [t.cfg:14] : 'http-request replace-header' expects <name>, <regex> and <replace-fmt>",
                "[ALERT] parsing [t.cfg:15] : 'http-request replace-header': invalid regex '(': Unmatched ( or \\(",
                "[ALERT] parsing [t.cfg:16] : 'http-request set-header': in '%[nope]': unknown fetch method 'nope'",
                "[ALERT] parsing [t.cfg:17] : 'http-request set-header' expects 'if' or 'unless' followed by a condition, got 'z'",
                "[ALERT] parsing [t.cfg:18] : 'http-response add-header' expects <name> and <fmt>",
            ]
        )
    }

    // MARK: - path, query, uri, service

    func testRewriteActions_areParsed() {
        let actions = requestActions(
            "http-request set-path /cdn%[path]",
            "http-request set-query %[query]&debug=1",
            "http-request set-uri /",
            "http-request use-service prometheus-exporter if { path /metrics }",
            "http-request allow if { src 127.0.0.1 }"
        )
        XCTAssertEqual(
            actions,
            [
                .setPath(
                    LogFormat(
                        parts: [.literal("/cdn"), .sample(SampleExpression(fetch: SampleFetch(name: "path")))],
                        text: "/cdn%[path]"
                    )
                ),
                .setQuery(
                    LogFormat(
                        parts: [.sample(SampleExpression(fetch: SampleFetch(name: "query"))), .literal("&debug=1")],
                        text: "%[query]&debug=1"
                    )
                ),
                .setURI(LogFormat(literal: "/")), .useService(.prometheusExporter), .allow,
            ]
        )
    }

    func testRewriteAndService_errors_areAlerts() {
        assertDiagnostics(
            inHTTPFrontend(
                "http-request set-path",
                "http-request use-service",
                "http-request use-service lua.acme",
                "http-request use-service prometheus"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : 'http-request set-path' expects a log-format string",
                "[ALERT] parsing [t.cfg:12] : 'http-request use-service' expects a service name",
                "[ALERT] parsing [t.cfg:13] : 'http-request use-service lua.acme' is not supported by sluice",
                "[ALERT] parsing [t.cfg:14] : unknown service 'prometheus' for 'http-request use-service' (sluice has 'prometheus-exporter')",
            ]
        )
    }

    // MARK: - actions that are not supported

    func testActions_unknownAndUnsupported_areAlerts() {
        assertDiagnostics(
            inHTTPFrontend(
                "http-request",
                "http-request set-headr X y",
                "http-request set-var(txn.x) str(1)",
                "http-request track-sc0 src",
                "http-request lua.check",
                "http-response set-status 503",
                "http-response redirect location /",
                "http-response frobnicate"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : 'http-request' expects an action",
                "[ALERT] parsing [t.cfg:12] : unknown action 'set-headr' for 'http-request'; did you mean 'set-header'?",
                "[ALERT] parsing [t.cfg:13] : 'http-request set-var' is not supported by sluice",
                "[ALERT] parsing [t.cfg:14] : 'http-request track-sc0' is not supported by sluice",
                "[ALERT] parsing [t.cfg:15] : 'http-request lua.check' is not supported by sluice",
                "[ALERT] parsing [t.cfg:16] : 'http-response set-status' is not supported by sluice",
                "[ALERT] parsing [t.cfg:17] : 'http-response redirect' is not supported by sluice",
                "[ALERT] parsing [t.cfg:18] : unknown action 'frobnicate' for 'http-response'",
            ]
        )
    }

    func testRules_inDefaults_areNotSupported() {
        assertDiagnostics(
            inDefaults("http-request deny", "http-response allow"),
            [
                "[ALERT] parsing [t.cfg:6] : 'http-request' rules in a 'defaults' section are not supported by sluice",
                "[ALERT] parsing [t.cfg:7] : 'http-response' rules in a 'defaults' section are not supported by sluice",
            ]
        )
    }

    func testRules_badCondition_isAlert() {
        assertDiagnostics(
            inHTTPFrontend("http-request deny if nope"),
            ["[ALERT] parsing [t.cfg:11] : no such ACL: 'nope'"]
        )
    }

    // MARK: - deny and return

    func testDeny_forms() {
        let actions = requestActions(
            "http-request deny",
            "http-request deny deny_status 429",
            "http-request deny deny_status 403 hdr X-Blocked-By waf",
            "http-request deny status 401 content-type text/plain string denied"
        )
        XCTAssertEqual(
            actions,
            [
                .deny(HTTPReply(status: 403, body: .defaultErrorFile)),
                .deny(HTTPReply(status: 429, body: .defaultErrorFile)),
                .deny(
                    HTTPReply(
                        status: 403,
                        body: .empty,
                        headers: [HTTPHeaderField(name: "X-Blocked-By", value: LogFormat(literal: "waf"))]
                    )
                ),
                .deny(HTTPReply(status: 401, contentType: "text/plain", body: .payload(Array("denied".utf8)))),
            ]
        )
    }

    func testReturn_forms() {
        let actions = requestActions(
            "http-request return",
            "http-request return status 200 content-type text/html string Ok",
            "http-request return status 200 content-type text/html file /etc/sluice/body.html",
            "http-request return status 503 errorfile /etc/sluice/503.http",
            "http-request return status 404 default-errorfiles",
            "http-request return status 403 content-type text/plain lf-string \"denied %[src]\" hdr X-Why ip"
        )
        XCTAssertEqual(actions.count, 6)
        XCTAssertEqual(actions[0], .reply(HTTPReply(status: 200, body: .empty)))
        XCTAssertEqual(
            actions[1],
            .reply(HTTPReply(status: 200, contentType: "text/html", body: .payload(Array("Ok".utf8))))
        )
        XCTAssertEqual(
            actions[2],
            .reply(HTTPReply(status: 200, contentType: "text/html", body: .payload(Array("<p>hi</p>\n".utf8))))
        )
        XCTAssertEqual(
            actions[3],
            .reply(
                HTTPReply(
                    status: 503,
                    body: .errorFile(
                        path: "/etc/sluice/503.http",
                        response: Array(
                            "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\n\r\n<h1>busy</h1>\n".utf8
                        )
                    )
                )
            )
        )
        XCTAssertEqual(actions[4], .reply(HTTPReply(status: 404, body: .defaultErrorFile)))
        guard case .reply(let reply) = actions[5], case .logFormat(let format) = reply.body else {
            return XCTFail("expected an lf-string reply, got \(actions[5])")
        }
        XCTAssertEqual(format.parts.count, 2)
        XCTAssertEqual(reply.headers.map(\.name), ["X-Why"])
    }

    func testDenyAndReturn_ignoredArguments_areWarnings() {
        assertDiagnostics(
            inHTTPFrontend(
                "http-request deny deny_status 403 content-type text/plain",
                "http-request return status 503 errorfile /etc/sluice/503.http hdr X y",
                "http-request return status 200 content-type text/plain file /etc/sluice/empty"
            ),
            [
                "[WARNING] parsing [t.cfg:11] : 'http-request deny': content-type 'text/plain' ignored without a payload",
                "[WARNING] parsing [t.cfg:12] : 'http-request return': 'hdr' ignored with an error file",
                "[WARNING] parsing [t.cfg:13] : 'http-request return': content-type 'text/plain' ignored with an empty payload",
            ]
        )
    }

    func testDenyAndReturn_errors_areAlerts() {
        assertDiagnostics(
            inHTTPFrontend(
                "http-request deny deny_status 409",
                "http-request return status 600",
                "http-request return status 200 string Ok",
                "http-request return status 200 file /nope",
                "http-request return errorfile /etc/sluice/bad.http",
                "http-request return string a file /etc/sluice/body.html",
                "http-request return deny_status 403",
                "http-request return errorfiles site",
                "http-request deny stauts 403",
                "http-request return status 200 lf-string x"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : 'http-request deny': status 409 has no error page (an error file takes one of 200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504)",
                "[ALERT] parsing [t.cfg:12] : 'http-request return': 'status' expects a status code from 200 to 599",
                "[ALERT] parsing [t.cfg:13] : 'http-request return': a 'string' payload needs 'content-type'",
                "[ALERT] parsing [t.cfg:14] : 'http-request return file' : cannot read '/nope' (No such file or directory)",
                "[ALERT] parsing [t.cfg:15] : 'http-request return': '/etc/sluice/bad.http' is not a complete HTTP response (status line, headers, empty line)",
                "[ALERT] parsing [t.cfg:16] : 'http-request return': 'file' cannot be used with 'string'",
                "[ALERT] parsing [t.cfg:17] : 'deny_status' is only valid with 'deny', not with 'http-request return'",
                "[ALERT] parsing [t.cfg:18] : 'http-request return errorfiles' is not supported by sluice (no 'http-errors' sections)",
                "[ALERT] parsing [t.cfg:19] : unknown argument 'stauts' for 'http-request deny'; did you mean 'status'?",
                "[ALERT] parsing [t.cfg:20] : 'http-request return': a 'lf-string' payload needs 'content-type'",
            ]
        )
    }

    // MARK: - redirect

    func testRedirect_httpRequestForms() {
        let actions = requestActions(
            "http-request redirect scheme https code 301 if !{ ssl_fc }",
            "http-request redirect code 302 location https://%[req.hdr(host)]%HU",
            "http-request redirect prefix /new drop-query append-slash set-cookie SEEN=1 clear-cookie OLD=",
            "http-request redirect location %[path] ignore-empty code 308"
        )
        guard actions.count == 4, case .redirect(let scheme) = actions[0], case .redirect(let location) = actions[1],
            case .redirect(let prefix) = actions[2], case .redirect(let empty) = actions[3]
        else { return XCTFail("expected four redirects, got \(actions)") }
        XCTAssertEqual(scheme.kind, .scheme)
        XCTAssertEqual(scheme.value, LogFormat(literal: "https"))
        XCTAssertEqual(scheme.code, 301)
        XCTAssertEqual(location.kind, .location)
        XCTAssertEqual(location.code, 302)
        XCTAssertEqual(
            location.value.parts,
            [
                .literal("https://"),
                .sample(SampleExpression(fetch: SampleFetch(name: "req.hdr", argument: "host"))),
                .variable(.uri),
            ]
        )
        XCTAssertEqual(prefix.kind, .prefix)
        XCTAssertTrue(prefix.dropsQuery)
        XCTAssertTrue(prefix.appendsSlash)
        XCTAssertEqual(prefix.setCookie, "SEEN=1")
        XCTAssertEqual(prefix.clearCookie, "OLD=")
        XCTAssertTrue(empty.ignoresEmpty)
        XCTAssertEqual(empty.code, 308)
    }

    func testRedirect_keyword_isAConstantHTTPRequestRule() {
        let fe = frontend(
            "http-request set-header X y",
            "redirect scheme https code 301 if !{ ssl_fc }",
            "redirect location /%[not-a-sample]"
        )
        guard let rules = fe?.httpRequestRules, rules.count == 3, case .redirect(let scheme) = rules[1].action,
            case .redirect(let literal) = rules[2].action
        else { return XCTFail("expected a header rule then two redirects") }
        XCTAssertEqual(scheme.code, 301)
        XCTAssertEqual(rules[1].condition?.alternatives.first?.first?.negated, true)
        XCTAssertEqual(literal.value, LogFormat(literal: "/%[not-a-sample]"))
        XCTAssertTrue(literal.value.isConstant)
    }

    func testRedirect_errors_areAlerts() {
        assertDiagnostics(
            inHTTPFrontend(
                "http-request redirect",
                "http-request redirect code 304 location /",
                "http-request redirect location",
                "http-request redirect location / prefix /x",
                "http-request redirect location / drop-qery",
                "redirect code 301",
                "http-request redirect location %[src"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : 'http-request redirect' expects 'location', 'prefix' or 'scheme' followed by a value",
                "[ALERT] parsing [t.cfg:12] : 'http-request redirect': 'code' expects 301, 302, 303, 307 or 308",
                "[ALERT] parsing [t.cfg:13] : 'http-request redirect location' expects an argument",
                "[ALERT] parsing [t.cfg:14] : 'http-request redirect': only one of 'location', 'prefix' or 'scheme' is allowed",
                "[ALERT] parsing [t.cfg:15] : unknown argument 'drop-qery' for 'http-request redirect'; did you mean 'drop-query'?",
                "[ALERT] parsing [t.cfg:16] : 'redirect' expects 'location', 'prefix' or 'scheme' followed by a value",
                "[ALERT] parsing [t.cfg:17] : 'http-request redirect location': missing ']' after '%[' in '%[src'",
            ]
        )
    }

    func testRedirect_inDefaults_isAlert() {
        assertDiagnostics(
            inDefaults("redirect scheme https"),
            ["[ALERT] parsing [t.cfg:6] : 'redirect' not allowed in 'defaults' section"]
        )
    }

    // MARK: - http-response

    func testHTTPResponse_rules() {
        let rules = frontend(
            "http-response set-header Strict-Transport-Security max-age=31536000",
            "http-response del-header Server",
            "http-response replace-header Location ^http://(.*)$ https://\\1",
            "http-response deny if { status 500 }",
            "http-response deny deny_status 403 hdr X-Blocked yes",
            "http-response allow"
        )?.httpResponseRules
        XCTAssertEqual(
            rules?.map(\.action),
            [
                .header(.set(name: "Strict-Transport-Security", value: LogFormat(literal: "max-age=31536000"))),
                .header(.delete(name: "Server", method: .exact)),
                .header(
                    .replaceHeader(
                        name: "Location",
                        regex: "^http://(.*)$",
                        replacement: LogFormat(literal: "https://\\1")
                    )
                ),
                .deny(HTTPReply(status: 502, body: .defaultErrorFile)),
                .deny(
                    HTTPReply(
                        status: 403,
                        body: .empty,
                        headers: [HTTPHeaderField(name: "X-Blocked", value: LogFormat(literal: "yes"))]
                    )
                ),
                .allow,
            ]
        )
        XCTAssertEqual(rules?[3].condition.map { _ in true }, true)
    }

    func testHTTPResponse_delHeaderWithExtraWord_isAlert() {
        assertDiagnostics(
            inHTTPFrontend("http-response del-header ^X-Powered-By .*$"),
            [
                "[ALERT] parsing [t.cfg:11] : 'http-response del-header' expects 'if' or 'unless' followed by a condition, got '.*$'"
            ]
        )
    }

    // MARK: - mode tcp

    func testTCPMode_httpRulesStatsAndForwardfor_areIgnoredWithWarnings() {
        let result = parse(
            inFrontend(
                "http-request set-header X y",
                "http-response del-header Server",
                "redirect scheme https",
                "stats enable",
                "option forwardfor"
            )
        )
        XCTAssertEqual(
            result.diagnostics.map(\.rendered),
            [
                "[WARNING] parsing [t.cfg:8] : 'http-request' rules ignored for frontend 'fe' as they require HTTP mode",
                "[WARNING] parsing [t.cfg:8] : 'http-response' rules ignored for frontend 'fe' as they require HTTP mode",
                "[WARNING] parsing [t.cfg:8] : 'redirect' rules ignored for frontend 'fe' as they require HTTP mode",
                "[WARNING] parsing [t.cfg:8] : 'stats' statement ignored for frontend 'fe' as it requires HTTP mode",
                "[WARNING] parsing [t.cfg:8] : 'option forwardfor' ignored for frontend 'fe' as it requires HTTP mode",
            ]
        )
        let fe = result.configuration?.frontends.first
        XCTAssertEqual(fe?.httpRequestRules, [])
        XCTAssertEqual(fe?.httpResponseRules, [])
        XCTAssertNil(fe?.stats)
        XCTAssertNil(fe?.forwardFor)
    }

    // MARK: - errorfile

    func testErrorFile_isReadAtLoadAndInherited() {
        let text =
            httpDefaults.replacingOccurrences(of: "\n\n", with: "\n")
            + "    errorfile 503 /etc/sluice/503.http\n    errorfile 403 /etc/sluice/lf.http\n\n"
            + "frontend fe\n  bind :80\n  default_backend be\n  errorfile 503 /etc/sluice/empty\n"
            + "backend be\n  server s 127.0.0.1:1\n"
        let config = assertValid(text)
        let fe = config?.frontends.first
        XCTAssertEqual(fe?.errorFiles.map(\.status), [403, 503])
        XCTAssertEqual(fe?.errorFiles.last?.response, [])
        XCTAssertEqual(fe?.errorFiles.last?.location, SourceLocation(file: "t.cfg", line: 12))
        let be = config?.backend(named: "be")
        XCTAssertEqual(be?.errorFiles.map(\.status), [503, 403])
        XCTAssertEqual(be?.errorFiles.first?.path, "/etc/sluice/503.http")
        XCTAssertEqual(
            be?.errorFiles.first?.response,
            Array("HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\n\r\n<h1>busy</h1>\n".utf8)
        )
    }

    func testErrorFile_errors_areAlerts() {
        assertDiagnostics(
            inHTTPFrontend(
                "errorfile 409 /etc/sluice/503.http",
                "errorfile 503 /nope.http",
                "errorfile 503 /etc/sluice/bad.http",
                "errorfile 503",
                "errorfile 503 /etc/sluice/503.http extra"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : 'errorfile': status code '409' is not one sluice generates (200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504)",
                "[ALERT] parsing [t.cfg:12] : 'errorfile 503' : cannot read '/nope.http' (No such file or directory)",
                "[ALERT] parsing [t.cfg:13] : 'errorfile 503': '/etc/sluice/bad.http' is not a complete HTTP response (status line, headers, empty line)",
                "[ALERT] parsing [t.cfg:14] : 'errorfile' expects <code> and <file>",
                "[ALERT] parsing [t.cfg:15] : 'errorfile' cannot handle unexpected argument 'extra'",
            ]
        )
    }

    func testErrorFile_realFile_isReadThroughTheProcessEnvironment() throws {
        var environment = testEnvironment
        environment.readFile = ConfigEnvironment.process.readFile
        let path = "/tmp/sluice-errorfile-\(getpid()).http"
        let bytes = Array("HTTP/1.0 500 Oops\r\n\r\n".utf8)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = parse(
            inHTTPFrontend("errorfile 500 \(path)", "errorfile 502 /nonexistent/x.http"),
            environment: environment
        )
        XCTAssertEqual(
            result.diagnostics.map(\.rendered),
            [
                "[ALERT] parsing [t.cfg:12] : 'errorfile 502' : cannot read '/nonexistent/x.http' (No such file or directory)"
            ]
        )
        let ok = parse(inHTTPFrontend("errorfile 500 \(path)"), environment: environment)
        XCTAssertEqual(ok.configuration?.frontends.first?.errorFiles.first?.response, bytes)
    }

    // MARK: - http-reuse, connection mode, forwardfor

    func testHTTPReuse_values() {
        XCTAssertEqual(assertValid(inHTTPBackend())?.backend(named: "be")?.httpReuse, .safe)
        for value in ["never", "safe", "aggressive", "always"] {
            XCTAssertEqual(
                assertValid(inHTTPBackend("http-reuse \(value)"))?.backend(named: "be")?.httpReuse,
                HTTPReuse(rawValue: value)
            )
        }
    }

    func testHTTPReuse_errors() {
        assertDiagnostics(
            inHTTPBackend("http-reuse sometimes", "http-reuse"),
            [
                "[ALERT] parsing [t.cfg:11] : 'http-reuse' expects 'never', 'safe', 'aggressive' or 'always', got 'sometimes'",
                "[ALERT] parsing [t.cfg:12] : 'http-reuse' expects 'never', 'safe', 'aggressive' or 'always'",
            ]
        )
        assertDiagnostics(
            inHTTPFrontend("http-reuse always"),
            ["[WARNING] parsing [t.cfg:11] : 'http-reuse' ignored because frontend 'fe' has no backend capability"]
        )
    }

    func testConnectionMode_optionsAndNo() {
        XCTAssertEqual(frontend()?.httpConnectionMode, .keepAlive)
        XCTAssertEqual(frontend("option http-server-close")?.httpConnectionMode, .serverClose)
        XCTAssertEqual(frontend("option httpclose")?.httpConnectionMode, .close)
        XCTAssertEqual(frontend("option httpclose", "option http-keep-alive")?.httpConnectionMode, .keepAlive)
        XCTAssertEqual(frontend("option httpclose", "no option httpclose")?.httpConnectionMode, .keepAlive)
        let inherited = assertValid(
            httpDefaults.replacingOccurrences(of: "\n\n", with: "\n") + "    option http-server-close\n"
                + "frontend fe\n  bind :80\n  default_backend be\nbackend be\n  server s 127.0.0.1:1\n"
        )
        XCTAssertEqual(inherited?.proxies.map(\.httpConnectionMode), [.serverClose, .serverClose])
    }

    func testConnectionMode_withArgument_isAlert() {
        assertDiagnostics(
            inHTTPFrontend("option httpclose now"),
            ["[ALERT] parsing [t.cfg:11] : 'option httpclose now' is not supported by sluice"]
        )
    }

    func testForwardFor_forms() {
        XCTAssertEqual(frontend()?.forwardFor, nil)
        let plain = frontend("option forwardfor")?.forwardFor
        XCTAssertEqual(plain?.headerName, "X-Forwarded-For")
        XCTAssertNil(plain?.exceptNetwork)
        XCTAssertEqual(plain?.onlyIfNone, false)
        let full = frontend("option forwardfor except 127.0.0.0/8 header X-Real-IP if-none")?.forwardFor
        XCTAssertEqual(full?.exceptNetwork, "127.0.0.0/8")
        XCTAssertEqual(full?.headerName, "X-Real-IP")
        XCTAssertEqual(full?.onlyIfNone, true)
        XCTAssertEqual(full?.location, SourceLocation(file: "t.cfg", line: 11))
        XCTAssertEqual(frontend("option forwardfor except 10.0.0.1")?.forwardFor?.exceptNetwork, "10.0.0.1")
        XCTAssertNil(frontend("option forwardfor", "no option forwardfor")?.forwardFor)
    }

    func testForwardFor_errors() {
        assertDiagnostics(
            inHTTPFrontend(
                "option forwardfor except 10.0.0.0/33",
                "option forwardfor except db.internal",
                "option forwardfor header",
                "option forwardfor bogus",
                "no option forwardfor header X"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : 'option forwardfor except' expects <address>[/mask]",
                "[ALERT] parsing [t.cfg:12] : 'option forwardfor except' expects <address>[/mask]",
                "[ALERT] parsing [t.cfg:13] : 'option forwardfor header' expects a header name",
                "[ALERT] parsing [t.cfg:14] : 'option forwardfor' only supports 'except', 'header' and 'if-none', got 'bogus'",
                "[ALERT] parsing [t.cfg:15] : 'no option forwardfor' cannot handle unexpected argument 'header'",
            ]
        )
    }
}
