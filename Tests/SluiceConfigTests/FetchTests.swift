// SPDX-License-Identifier: Apache-2.0
// Sample fetches beyond layer 4: HTTP, TLS and content fetches in ACLs, ACL keywords derived from them
// (`path_beg`), `-m` overrides, converters, pattern files, regexes checked at load, HAProxy's predefined ACLs, and
// where fetches may be used (HTTP fetches in mode tcp; conditions that can never match).

import SluiceConfig
import XCTest

final class FetchTests: XCTestCase {
    /// The `fe` frontend of a mode http configuration with `lines` from line 11.
    private func httpFrontend(_ lines: String..., file: StaticString = #filePath, line: UInt = #line) -> ProxyConfig? {
        let text =
            httpDefaults + "backend be\n  server s1 127.0.0.1:9000\nfrontend fe\n  bind :8080\n  default_backend be\n"
            + lines.map { $0 + "\n" }.joined()
        return assertValid(text, file: file, line: line)?.frontends.first
    }

    func testFetch_derivedKeywords_mapToFetchAndMethod() {
        let fe = httpFrontend(
            "acl a path_beg /api /v2",
            "acl b hdr_end(host) -i .example.com",
            "acl c url_sub login",
            "acl d base_dom example.com",
            "acl e urlp_reg(q) ^a+$",
            "acl f path_len gt 100",
            "acl g path_dir static",
            "acl h ssl_fc_sni_end .example.com"
        )
        let tests = fe?.acls.map { $0.tests[0] } ?? []
        XCTAssertEqual(
            tests.map(\.fetch),
            [
                SampleFetch(name: "path"), SampleFetch(name: "hdr", argument: "host"), SampleFetch(name: "url"),
                SampleFetch(name: "base"), SampleFetch(name: "url_param", argument: "q"), SampleFetch(name: "path"),
                SampleFetch(name: "path"), SampleFetch(name: "ssl_fc_sni"),
            ]
        )
        XCTAssertEqual(
            tests.map(\.method),
            [.prefix, .suffix, .substring, .domain, .regex, .length, .directory, .suffix]
        )
        XCTAssertEqual(tests[0].patterns, ["/api", "/v2"])
        XCTAssertEqual(tests[1].ignoreCase, true)
        XCTAssertEqual(tests[5].patterns, ["gt 100"])
    }

    func testFetch_httpFetches_haveDefaultMethodsAndArguments() {
        let fe = httpFrontend(
            "acl a hdr(host,-1) example.com",
            "acl b req.hdr(x-api-key) secret",
            "acl c url_param(id) 42",
            "acl d method GET POST",
            "acl e req.hdr_cnt(x-forwarded-for) gt 1",
            "acl f hdr_cnt ge 50",
            "acl g query -m found",
            "acl h path /",
            "acl i req.ver 1.1"
        )
        let tests = fe?.acls.map { $0.tests[0] } ?? []
        XCTAssertEqual(tests[0].fetch, SampleFetch(name: "hdr", arguments: ["host", "-1"]))
        XCTAssertEqual(tests[0].fetch.argument, "host")
        XCTAssertEqual(tests[1].fetch, SampleFetch(name: "req.hdr", argument: "x-api-key"))
        XCTAssertEqual(tests[2].fetch, SampleFetch(name: "url_param", argument: "id"))
        XCTAssertEqual(
            tests.map(\.method),
            [.exact, .exact, .exact, .exact, .integer, .integer, .found, .exact, .exact]
        )
        XCTAssertEqual(tests[3].patterns, ["GET", "POST"])
        XCTAssertEqual(tests[5].fetch, SampleFetch(name: "hdr_cnt"))
    }

    func testFetch_tlsAndContentFetches_inTCPMode() {
        let text =
            inFrontend(
                "tcp-request inspect-delay 5s",
                "tcp-request content accept if { req_ssl_hello_type 1 }",
                "use_backend be if { req_ssl_sni -i a.example.com }",
                "use_backend be if { req.ssl_sni -m end .example.org } !{ ssl_fc }",
                "tcp-request content reject if { req.len lt 5 } WAIT_END || REQ_CONTENT",
                "use_backend be if { ssl_c_used } { ssl_c_verify 0 } { ssl_fc_protocol TLSv1.3 } { ssl_fc_alpn h2 }"
            )
        let fe = assertValid(text)?.frontends.first
        let names = fe?.acls.flatMap { $0.tests.map(\.fetch.name) }
        XCTAssertEqual(
            names,
            [
                "req.ssl_hello_type", "req.ssl_sni", "req.ssl_sni", "ssl_fc", "req.len", "wait_end", "req.len",
                "ssl_c_used",
                "ssl_c_verify", "ssl_fc_protocol", "ssl_fc_alpn",
            ]
        )
        XCTAssertEqual(fe?.acls[0].tests[0].method, .integer)
        XCTAssertEqual(fe?.acls[2].tests[0].method, .suffix)
        XCTAssertEqual(fe?.acls[3].tests[0].method, .boolean)
        XCTAssertEqual(fe?.acls[6].name, "REQ_CONTENT")
        XCTAssertEqual(fe?.acls[6].tests[0].patterns, ["gt 0"])
    }

    func testFetch_sources_sayWhereTheyCanBeUsed() {
        XCTAssertEqual(SampleFetch(name: "src").source, .connection)
        XCTAssertEqual(SampleFetch(name: "str", argument: "x").source, .constant)
        XCTAssertEqual(SampleFetch(name: "ssl_fc_sni").source, .tls)
        XCTAssertEqual(SampleFetch(name: "req.ssl_sni").source, .content)
        XCTAssertEqual(SampleFetch(name: "path").source, .httpRequest)
        XCTAssertEqual(SampleFetch(name: "hdr").source, .httpMessage)
        XCTAssertEqual(SampleFetch(name: "status").source, .httpResponse)
        XCTAssertNil(SampleFetch(name: "no_such_fetch").source)
        XCTAssertTrue(FetchSource.httpMessage.needsHTTP)
        XCTAssertFalse(FetchSource.content.needsHTTP)
    }

    func testFetch_methodOverride_replacesTheImpliedOne() {
        let fe = httpFrontend("acl a path_beg -m sub /x", "acl b path -m len 3", "acl c hdr(host) -m reg ^www\\.")
        XCTAssertEqual(fe?.acls.map { $0.tests[0].method }, [.substring, .length, .regex])
    }

    func testFetch_methodNotForItsType_isAlert() {
        assertDiagnostics(
            inHTTPFrontend("acl a ssl_fc -m str x", "acl b path -m ip 1.2.3.4", "acl c path -m bin 00"),
            [
                "[ALERT] parsing [t.cfg:11] : ACL 'a': match method 'str' with fetch 'ssl_fc' is not supported by sluice",
                "[ALERT] parsing [t.cfg:12] : ACL 'b': match method 'ip' with fetch 'path' is not supported by sluice",
                "[ALERT] parsing [t.cfg:13] : ACL 'c': match method 'bin' with fetch 'path' is not supported by sluice",
            ]
        )
    }

    func testFetch_converters_lowerAndUpper() {
        let fe = httpFrontend("acl a hdr(host),lower example.com", "acl b req.hdr(x),upper,lower X")
        XCTAssertEqual(fe?.acls[0].tests[0].converters, [.lower])
        XCTAssertEqual(fe?.acls[1].tests[0].converters, [.upper, .lower])
    }

    func testFetch_converterErrors_areAlerts() {
        assertDiagnostics(
            inHTTPFrontend(
                "acl a src,lower 1.2.3.4",
                "acl b path,lower(1) x",
                "acl c path,regsub(a,b) x",
                "acl d path,lowr x"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : ACL 'a': converter 'lower' applies to text; fetch 'src' is not text",
                "[ALERT] parsing [t.cfg:12] : ACL 'b': converter 'lower' takes no argument, got '1'",
                "[ALERT] parsing [t.cfg:13] : ACL 'c': converter 'regsub' is not supported by sluice",
                "[ALERT] parsing [t.cfg:14] : ACL 'd': unknown converter 'lowr'; did you mean 'lower'?",
            ]
        )
    }

    func testFetch_argumentErrors_areAlerts() {
        assertDiagnostics(
            inHTTPFrontend(
                "acl a hdr(host,x) foo",
                "acl b str x",
                "acl c path(1) /",
                "acl d hdr(a,1,2) x",
                "acl e hdr(host x"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : ACL 'a': fetch 'hdr': occurrence must be an integer, got 'x'",
                "[ALERT] parsing [t.cfg:12] : ACL 'b': fetch 'str' expects a string between parentheses",
                "[ALERT] parsing [t.cfg:13] : ACL 'c': fetch 'path' takes no argument, got '1'",
                "[ALERT] parsing [t.cfg:14] : ACL 'd': fetch 'hdr' expects at most a header name and an occurrence",
                "[ALERT] parsing [t.cfg:15] : ACL 'e': missing ')' after the argument of fetch 'hdr'",
            ]
        )
    }

    func testFetch_regex_isCompiledAtLoad() {
        let fe = httpFrontend("acl a path_reg ^/api/[0-9]+$", "acl b hdr_reg(host) -i ^(www\\.)?example\\.com$")
        XCTAssertEqual(fe?.acls[0].tests[0].patterns, ["^/api/[0-9]+$"])
        XCTAssertEqual(fe?.acls[1].tests[0].ignoreCase, true)
    }

    func testFetch_badRegex_isAlert() {
        assertDiagnostics(
            inHTTPFrontend(
                "acl a path_reg (",
                "acl b path_reg ^/\\d+$",
                "acl c path_reg (?i)x",
                "acl d path_reg a.*?b"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : ACL 'a': invalid regex '(': Unmatched ( or \\(",
                "[ALERT] parsing [t.cfg:12] : ACL 'b': invalid regex '^/\\d+$': PCRE escape '\\d' is not supported by sluice's POSIX regexes (use [0-9])",
                "[ALERT] parsing [t.cfg:13] : ACL 'c': invalid regex '(?i)x': PCRE group '(?' is not supported by sluice's POSIX regexes",
                "[ALERT] parsing [t.cfg:14] : ACL 'd': invalid regex 'a.*?b': lazy quantifier '*?' is not supported by sluice's POSIX regexes",
            ]
        )
    }

    func testFetch_patternFile_isReadAtLoad() {
        let fe = httpFrontend(
            "acl blocked src -f /etc/sluice/blocked.lst 127.0.0.1",
            "acl private path_beg -i -f /etc/sluice/paths.lst",
            "acl none path -f /etc/sluice/empty"
        )
        XCTAssertEqual(fe?.acls[0].tests[0].patterns, ["127.0.0.1", "10.1.0.0/16", "192.168.7.7"])
        XCTAssertEqual(fe?.acls[1].tests[0].patterns, ["/admin", "/private"])
        XCTAssertEqual(fe?.acls[1].tests[0].ignoreCase, true)
        XCTAssertEqual(fe?.acls[2].tests[0].patterns, [])
    }

    func testFetch_patternFileErrors_areAlerts() {
        assertDiagnostics(
            inHTTPFrontend("acl a src -f /nope", "acl b src -f /etc/sluice/bad-ips.lst", "acl c src -f"),
            [
                "[ALERT] parsing [t.cfg:11] : ACL 'a': cannot read pattern file '/nope' (No such file or directory)",
                "[ALERT] parsing [t.cfg:12] : ACL 'b': invalid IP address or network 'not-an-ip' for fetch 'src' in '/etc/sluice/bad-ips.lst' line 2",
                "[ALERT] parsing [t.cfg:13] : ACL 'c': '-f' expects a file name",
            ]
        )
    }

    func testPredefinedACLs_http_areMaterialized() {
        let fe = httpFrontend(
            "http-request deny if METH_TRACE || HTTP_1.0 HTTP_URL_ABS",
            "http-request deny if HTTP_CONTENT !HTTP_URL_SLASH || HTTP HTTP_1.1 METH_CONNECT"
        )
        XCTAssertEqual(
            fe?.acls.map(\.name),
            [
                "METH_TRACE", "HTTP_1.0", "HTTP_URL_ABS", "HTTP_CONTENT", "HTTP_URL_SLASH", "HTTP", "HTTP_1.1",
                "METH_CONNECT",
            ]
        )
        let tests = fe?.acls.map { $0.tests[0] } ?? []
        XCTAssertEqual(tests[0].fetch, SampleFetch(name: "method"))
        XCTAssertEqual(tests[0].patterns, ["TRACE"])
        XCTAssertEqual(tests[1].fetch, SampleFetch(name: "req.ver"))
        XCTAssertEqual(tests[1].patterns, ["1.0"])
        XCTAssertEqual(tests[2].method, .regex)
        XCTAssertEqual(tests[3].fetch, SampleFetch(name: "req.hdr_val", argument: "content-length"))
        XCTAssertEqual(tests[3].patterns, ["gt 0"])
        XCTAssertEqual(tests[4].method, .prefix)
        XCTAssertEqual(tests[5].fetch, SampleFetch(name: "req.proto_http"))
    }

    func testHTTPFetch_inTCPFrontend_isAlert() {
        assertDiagnostics(
            inFrontend(
                "acl api path_beg /api",
                "use_backend be if api",
                "tcp-request content reject if { hdr(host) x } || TRUE",
                "tcp-request content accept if HTTP"
            ),
            [
                "[ALERT] parsing [t.cfg:12] : frontend 'fe' is in mode tcp: 'use_backend' uses fetch 'path' (ACL 'api'), which needs 'mode http' (sluice does not parse HTTP in mode tcp)",
                "[ALERT] parsing [t.cfg:13] : frontend 'fe' is in mode tcp: 'tcp-request content' uses fetch 'hdr' (anonymous ACL), which needs 'mode http' (sluice does not parse HTTP in mode tcp)",
                "[ALERT] parsing [t.cfg:14] : frontend 'fe' is in mode tcp: 'tcp-request content' uses fetch 'req.proto_http' (ACL 'HTTP'), which needs 'mode http' (sluice does not parse HTTP in mode tcp)",
            ]
        )
    }

    func testHTTPFetch_unusedACLInTCPFrontend_isFine() {
        assertValid(inFrontend("acl api path_beg /api"))
    }

    func testCondition_neverMatching_isWarning() {
        let result = parse(
            inHTTPFrontend(
                "tcp-request connection reject if { req.ssl_sni x }",
                "http-response set-header X y if { path /x }",
                "acl ok status 200",
                "use_backend be if ok",
                "http-request deny if { res.hdr(server) x }",
                "http-response set-header X y if { hdr(server) x } { ssl_fc }"
            )
        )
        XCTAssertEqual(
            result.diagnostics.map(\.rendered),
            [
                "[WARNING] parsing [t.cfg:11] : frontend 'fe': L6 sample fetches ignored on HTTP proxies (fetch 'req.ssl_sni' in 'tcp-request connection')",
                "[WARNING] parsing [t.cfg:11] : anonymous ACL will never match in 'tcp-request connection': fetch 'req.ssl_sni' is not available there",
                "[WARNING] parsing [t.cfg:12] : anonymous ACL will never match in 'http-response': fetch 'path' is not available there",
                "[WARNING] parsing [t.cfg:14] : ACL 'ok' will never match in 'use_backend': fetch 'status' is not available there",
                "[WARNING] parsing [t.cfg:15] : anonymous ACL will never match in 'http-request': fetch 'res.hdr' is not available there",
            ]
        )
        XCTAssertNotNil(result.configuration)
    }

    func testContentFetch_inHTTPMode_isWarning() {
        assertDiagnostics(
            inHTTPFrontend(
                "tcp-request content reject if { req.ssl_sni x }",
                "http-request deny if REQ_CONTENT",
                "tcp-request content reject if WAIT_END"
            ),
            [
                "[WARNING] parsing [t.cfg:11] : frontend 'fe': L6 sample fetches ignored on HTTP proxies (fetch 'req.ssl_sni' in 'tcp-request content')",
                "[WARNING] parsing [t.cfg:12] : frontend 'fe': L6 sample fetches ignored on HTTP proxies (fetch 'req.len' in 'http-request')",
            ]
        )
    }
}
