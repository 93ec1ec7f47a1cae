// SPDX-License-Identifier: Apache-2.0
// Request lines (RFC 9112 §3): method tokens, the four target forms, versions, and the exact spacing rules.
import SluiceHTTP
import XCTest

final class RequestLineTests: XCTestCase {
    func testOriginForm_splitsPathAndQuery() {
        let parsed = parse("GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\n\r\n")
        XCTAssertEqual(parsed.result, .complete)
        XCTAssertEqual(parsed.head.method, .get)
        XCTAssertEqual(parsed.text(parsed.head.methodRange), "GET")
        XCTAssertEqual(parsed.text(parsed.head.target), "/a/b?x=1&y=2")
        XCTAssertEqual(parsed.text(parsed.head.pathRange), "/a/b")
        XCTAssertEqual(parsed.text(parsed.head.queryRange), "x=1&y=2")
        XCTAssertNil(parsed.head.authorityRange)
        XCTAssertNil(parsed.head.schemeRange)
        XCTAssertEqual(parsed.head.version, .http11)
        XCTAssertEqual(parsed.head.headLength, parsed.bytes.count)
    }

    func testOriginForm_withEmptyQuery_hasEmptyQueryRange() {
        let parsed = parse("GET /p? HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(parsed.text(parsed.head.pathRange), "/p")
        XCTAssertEqual(parsed.text(parsed.head.queryRange), "")
        let noQuery = parse("GET /p HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertNil(noQuery.head.queryRange)
    }

    func testAbsoluteForm_splitsSchemeAuthorityPathQuery() {
        let parsed = parse("GET http://example.com:8080/x/y?q HTTP/1.1\r\nHost: example.com:8080\r\n\r\n")
        XCTAssertEqual(parsed.result, .complete)
        XCTAssertEqual(parsed.text(parsed.head.schemeRange), "http")
        XCTAssertEqual(parsed.text(parsed.head.authorityRange), "example.com:8080")
        XCTAssertEqual(parsed.text(parsed.head.pathRange), "/x/y")
        XCTAssertEqual(parsed.text(parsed.head.queryRange), "q")
    }

    func testAbsoluteForm_withoutPath_hasEmptyPath() {
        let parsed = parse("GET https://[::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n")
        XCTAssertEqual(parsed.result, .complete)
        XCTAssertEqual(parsed.text(parsed.head.authorityRange), "[::1]:443")
        XCTAssertEqual(parsed.text(parsed.head.pathRange), "")
        let withQuery = parse("GET http://a?q HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(withQuery.text(withQuery.head.pathRange), "")
        XCTAssertEqual(withQuery.text(withQuery.head.queryRange), "q")
    }

    func testAuthorityForm_onlyForConnect() {
        let parsed = parse("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        XCTAssertEqual(parsed.result, .complete)
        XCTAssertEqual(parsed.head.method, .connect)
        XCTAssertEqual(parsed.text(parsed.head.authorityRange), "example.com:443")
        XCTAssertEqual(parsed.text(parsed.head.pathRange), "")
        check([
            Vector("CONNECT IPv6", "CONNECT [::1]:443 HTTP/1.1\r\nHost: x\r\n\r\n", .complete),
            Vector("CONNECT origin-form", "CONNECT / HTTP/1.1\r\nHost: x\r\n\r\n", .failed(.badTarget)),
            Vector("CONNECT without port", "CONNECT example.com HTTP/1.1\r\nHost: x\r\n\r\n", .failed(.badTarget)),
            Vector("CONNECT empty port", "CONNECT example.com: HTTP/1.1\r\nHost: x\r\n\r\n", .failed(.badTarget)),
            Vector("CONNECT empty host", "CONNECT :443 HTTP/1.1\r\nHost: x\r\n\r\n", .failed(.badTarget)),
            Vector("CONNECT letters in port", "CONNECT a:44x HTTP/1.1\r\nHost: x\r\n\r\n", .failed(.badTarget)),
            Vector("CONNECT userinfo", "CONNECT u@a:443 HTTP/1.1\r\nHost: x\r\n\r\n", .failed(.badTarget)),
            Vector("GET authority-form", "GET example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n", .failed(.badTarget)),
        ])
    }

    func testAsteriskForm_onlyForOptions() {
        let parsed = parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(parsed.result, .complete)
        XCTAssertEqual(parsed.head.method, .options)
        XCTAssertEqual(parsed.text(parsed.head.pathRange), "*")
        check([
            Vector("GET *", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badTarget)),
            Vector("OPTIONS *x", "OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badTarget)),
        ])
    }

    func testMethods_areRecognisedCaseSensitively() {
        let table: [(String, HTTPMethod)] = [
            ("GET", .get), ("HEAD", .head), ("POST", .post), ("PUT", .put), ("DELETE", .delete),
            ("OPTIONS", .options), ("TRACE", .trace), ("PATCH", .patch), ("get", .other), ("PROPFIND", .other),
            ("M-SEARCH", .other), ("GETX", .other), ("!#$%&'*+-.^_`|~09az", .other),
        ]
        for (token, method) in table {
            let parsed = parse("\(token) / HTTP/1.1\r\nHost: a\r\n\r\n")
            XCTAssertEqual(parsed.result, .complete, token)
            XCTAssertEqual(parsed.head.method, method, token)
            XCTAssertEqual(parsed.text(parsed.head.methodRange), token)
        }
    }

    func testMalformedRequestLines_areRefused() {
        check([
            Vector("double space after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badRequestLine)),
            Vector("double space before version", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badRequestLine)),
            Vector("trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .failed(.badRequestLine)),
            Vector("leading space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badRequestLine)),
            Vector("tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badRequestLine)),
            Vector("tab before version", "GET /\tHTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badTarget)),
            Vector("missing version (HTTP/0.9)", "GET /\r\nHost: a\r\n\r\n", .failed(.badRequestLine)),
            Vector("method only", "GET\r\nHost: a\r\n\r\n", .failed(.badRequestLine)),
            Vector("missing target", "GET HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badRequestLine)),
            Vector("extra part", "GET / HTTP/1.1 x\r\nHost: a\r\n\r\n", .failed(.badRequestLine)),
            Vector("garbage", "\u{16}\u{03}\u{01}\u{02}\r\n\r\n", .failed(.badMethod)),
        ])
    }

    func testMethodCharacters_mustBeTokenCharacters() {
        check([
            Vector("paren", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badMethod)),
            Vector("slash", "GE/T / HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badMethod)),
            Vector("NUL", "G\u{0}T / HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badMethod)),
            Vector("non-ASCII", "GÉT / HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badMethod)),
            Vector("colon", "GET: / HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badMethod)),
        ])
    }

    func testTargetCharacters_controlSpaceDelNonASCIIAndFragmentAreRefused() {
        check([
            Vector("NUL", "GET /a\u{0}b HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badTarget)),
            Vector("control", "GET /a\u{1}b HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badTarget)),
            Vector("DEL", "GET /a\u{7F}b HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badTarget)),
            Vector("non-ASCII", "GET /caf\u{E9} HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badTarget)),
            Vector("fragment", "GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badTarget)),
            Vector("bare CR", "GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.bareCarriageReturn)),
            Vector("relative", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badTarget)),
            Vector("digit first", "GET 1/b HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badTarget)),
            Vector("absolute without //", "GET http:/a HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badTarget)),
            Vector("absolute empty host", "GET http:///a HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badTarget)),
            Vector("absolute userinfo", "GET http://u:p@a/ HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badTarget)),
            Vector("absolute bad scheme", "GET ht_tp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badTarget)),
            Vector("encoded is fine", "GET /%20a%23b?%00 HTTP/1.1\r\nHost: a\r\n\r\n", .complete),
            Vector("all visible", "GET /!$&'()*+,;=:@-._~[]{}|\\^`\"<> HTTP/1.1\r\nHost: a\r\n\r\n", .complete),
        ])
    }

    func testVersions_formatIsStrict_minorAboveOneIsHTTP11_majorOtherThanOneIsUnsupported() {
        let http10 = parse("GET / HTTP/1.0\r\n\r\n")
        XCTAssertEqual(http10.result, .complete)
        XCTAssertEqual(http10.head.version, .http10)
        let http12 = parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n")
        XCTAssertEqual(http12.result, .complete)
        XCTAssertEqual(http12.head.version, .http11)
        check([
            Vector("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", .failed(.unsupportedVersion)),
            Vector("HTTP/0.9", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", .failed(.unsupportedVersion)),
            Vector("h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", .failed(.unsupportedVersion)),
            Vector("lowercase", "GET / http/1.1\r\nHost: a\r\n\r\n", .failed(.badVersion)),
            Vector("two-digit minor", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", .failed(.badVersion)),
            Vector("no minor", "GET / HTTP/1\r\nHost: a\r\n\r\n", .failed(.badVersion)),
            Vector("comma", "GET / HTTP/1,1\r\nHost: a\r\n\r\n", .failed(.badVersion)),
            Vector("letters", "GET / HTTP/a.b\r\nHost: a\r\n\r\n", .failed(.badVersion)),
            Vector("other protocol", "GET / HTTQ/1.1\r\nHost: a\r\n\r\n", .failed(.badVersion)),
        ])
        XCTAssertEqual(HTTPParseError.unsupportedVersion.requestStatus, 505)
        XCTAssertEqual(HTTPParseError.badVersion.requestStatus, 400)
    }

    func testLeadingEmptyLines_areSkippedUpTo32Bytes() {
        let parsed = parse("\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(parsed.result, .complete)
        XCTAssertEqual(parsed.head.messageStart, 3)
        XCTAssertEqual(parsed.text(parsed.head.methodRange), "GET")
        XCTAssertEqual(parsed.head.headLength, parsed.bytes.count)
        let sixteen = String(repeating: "\r\n", count: 16)
        XCTAssertEqual(parse(sixteen + "GET / HTTP/1.1\r\nHost: a\r\n\r\n").result, .complete)
        let seventeen = String(repeating: "\r\n", count: 17)
        XCTAssertEqual(parse(seventeen + "GET / HTTP/1.1\r\nHost: a\r\n\r\n").result, .failed(.badRequestLine))
        XCTAssertEqual(parse("\r\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").result, .failed(.bareCarriageReturn))
        XCTAssertEqual(parse("\r\n\r\n").result, .incomplete)
    }
}
