// SPDX-License-Identifier: Apache-2.0
// Header lines (RFC 9112 §5, RFC 9110 §5): name and value characters, OWS trimming, obs-fold, whitespace before
// the colon, line ends (CRLF, LF, bare CR), limits, and the fields the parser reads (Host, Connection, ...).
import SluiceHTTP
import XCTest

final class HeaderFieldTests: XCTestCase {
    func testHeaderTable_keepsOrderCaseAndTrimsValueWhitespace() {
        let parsed = parse("GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Tabs:\t v1 v2 \t\r\nx-lower:x\r\n\r\n")
        XCTAssertEqual(parsed.result, .complete)
        XCTAssertEqual(parsed.head.headerCount, 4)
        let fields = parsed.fields
        XCTAssertEqual(fields.map(\.0), ["Host", "X-Empty", "X-Tabs", "x-lower"])
        XCTAssertEqual(fields.map(\.1), ["a", "", "v1 v2", "x"])
    }

    func testValues_mayHoldObsTextAndVisibleCharacters() {
        let parsed = parse("GET / HTTP/1.1\r\nHost: a\r\nX: caf\u{E9} \"q\" (c) ;=,\r\n\r\n")
        XCTAssertEqual(parsed.result, .complete)
        XCTAssertEqual(parsed.fields[1].1, "caf\u{E9} \"q\" (c) ;=,")
    }

    func testNames_mustBeTokens() {
        check([
            Vector("space in name", "GET / HTTP/1.1\r\nHost: a\r\nX Y: 1\r\n\r\n", .failed(.badHeaderName)),
            Vector("empty name", "GET / HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n", .failed(.badHeaderName)),
            Vector("no colon", "GET / HTTP/1.1\r\nHost: a\r\nXY\r\n\r\n", .failed(.badHeaderName)),
            Vector("NUL in name", "GET / HTTP/1.1\r\nHost: a\r\nX\u{0}Y: 1\r\n\r\n", .failed(.badHeaderName)),
            Vector("paren in name", "GET / HTTP/1.1\r\nHost: a\r\nX(Y): 1\r\n\r\n", .failed(.badHeaderName)),
            Vector("non-ASCII name", "GET / HTTP/1.1\r\nHost: a\r\nX\u{E9}: 1\r\n\r\n", .failed(.badHeaderName)),
            Vector("slash in name", "GET / HTTP/1.1\r\nHost: a\r\nX/Y: 1\r\n\r\n", .failed(.badHeaderName)),
            Vector("all tchars", "GET / HTTP/1.1\r\nHost: a\r\n!#$%&'*+-.^_`|~09aZ: 1\r\n\r\n", .complete),
        ])
    }

    func testValues_controlCharactersAreRefused() {
        check([
            Vector("NUL", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0}b\r\n\r\n", .failed(.badHeaderValue)),
            Vector("trailing NUL", "GET / HTTP/1.1\r\nHost: a\r\nX: ab\u{0}\r\n\r\n", .failed(.badHeaderValue)),
            Vector("bell", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{7}b\r\n\r\n", .failed(.badHeaderValue)),
            Vector("DEL", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{7F}b\r\n\r\n", .failed(.badHeaderValue)),
            Vector("escape", "GET / HTTP/1.1\r\nHost: a\r\nX: \u{1B}[31m\r\n\r\n", .failed(.badHeaderValue)),
            Vector("bare CR", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", .failed(.bareCarriageReturn)),
            Vector("CR CR LF", "GET / HTTP/1.1\r\nHost: a\r\nX: ab\r\r\n\r\n", .failed(.bareCarriageReturn)),
            Vector("tab inside", "GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n", .complete),
        ])
    }

    func testWhitespaceBeforeColon_isRefused() {
        check([
            Vector("space", "GET / HTTP/1.1\r\nHost: a\r\nX : 1\r\n\r\n", .failed(.whitespaceBeforeColon)),
            Vector("tab", "GET / HTTP/1.1\r\nHost: a\r\nX\t: 1\r\n\r\n", .failed(.whitespaceBeforeColon)),
            Vector("Host", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", .failed(.whitespaceBeforeColon)),
        ])
    }

    func testObsFold_andWhitespaceAfterStartLine_areRefused() {
        check([
            Vector("space fold", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", .failed(.obsFold)),
            Vector("tab fold", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\t2\r\n\r\n", .failed(.obsFold)),
            Vector("after request line", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", .failed(.obsFold)),
            Vector("LF fold", "GET / HTTP/1.1\nHost: a\nX: 1\n 2\n\n", .failed(.obsFold)),
        ])
    }

    func testLineEnds_LFAloneIsAccepted_bareCRIsRefused() {
        let lfOnly = parse("GET / HTTP/1.1\nHost: a\nX: 1\n\n")
        XCTAssertEqual(lfOnly.result, .complete)
        XCTAssertEqual(lfOnly.fields.map(\.1), ["a", "1"])
        XCTAssertEqual(lfOnly.head.headLength, lfOnly.bytes.count)
        let mixed = parse("GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\n")
        XCTAssertEqual(mixed.result, .complete)
        XCTAssertEqual(mixed.head.headLength, mixed.bytes.count)
        let mixedEnd = parse("GET / HTTP/1.1\nHost: a\n\r\nbody")
        XCTAssertEqual(mixedEnd.result, .complete)
        XCTAssertEqual(mixedEnd.head.headLength, mixedEnd.bytes.count - 4)
        check([
            Vector("bare CR line end", "GET / HTTP/1.1\rHost: a\r\n\r\n", .failed(.bareCarriageReturn)),
            Vector("CR only head", "GET / HTTP/1.1\rHost: a\r\r", .incomplete),
            Vector("bare CR before end", "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", .failed(.bareCarriageReturn)),
            Vector("bare CR in request line", "GET / HT\rTP/1.1\r\nHost: a\r\n\r\n", .failed(.bareCarriageReturn)),
        ])
    }

    func testTooManyHeaders_isRefused() {
        var message = "GET / HTTP/1.1\r\nHost: a\r\n"
        for i in 0..<9 { message += "X-\(i): \(i)\r\n" }
        XCTAssertEqual(parse(message + "\r\n", maxHeaders: 10).result, .complete)
        XCTAssertEqual(parse(message + "X-9: 9\r\n\r\n", maxHeaders: 10).result, .failed(.tooManyHeaders))
        XCTAssertEqual(parse(message + "\r\n", maxHeaders: 101).head.headerCount, 10)
    }

    func testHeadTooLarge_whenNoCompleteHeadFitsInMaxHeadBytes() {
        let message = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"  // 27 bytes
        XCTAssertEqual(parse(message, maxHeadBytes: 27).result, .complete)
        XCTAssertEqual(parse(message, maxHeadBytes: 26).result, .failed(.headTooLarge))
        XCTAssertEqual(parse("GET / HTTP/1.1\r\nHost: a\r\n", maxHeadBytes: 26).result, .incomplete)
        XCTAssertEqual(parse("GET / HTTP/1.1\r\nHost: a\r\nX", maxHeadBytes: 26).result, .failed(.headTooLarge))
        // A body after a head that fits does not count.
        XCTAssertEqual(parse(message + String(repeating: "b", count: 100), maxHeadBytes: 27).result, .complete)
        let huge = "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "v", count: 20_000) + "\r\n\r\n"
        XCTAssertEqual(parse(huge, maxHeadBytes: 15_360).result, .failed(.headTooLarge))
    }

    func testHost_requiredInHTTP11_onlyOnce_withAuthorityCharacters() {
        let parsed = parse("GET / HTTP/1.1\r\nhOsT:  example.com:80 \r\n\r\n")
        XCTAssertEqual(parsed.text(parsed.head.hostRange), "example.com:80")
        let http10 = parse("GET / HTTP/1.0\r\n\r\n")
        XCTAssertEqual(http10.result, .complete)
        XCTAssertNil(http10.head.hostRange)
        check([
            Vector("missing", "GET / HTTP/1.1\r\nX: a\r\n\r\n", .failed(.missingHost)),
            Vector("absolute-form still needs Host", "GET http://a/ HTTP/1.1\r\n\r\n", .failed(.missingHost)),
            Vector("empty is allowed", "GET / HTTP/1.1\r\nHost:\r\n\r\n", .complete),
            Vector("duplicate", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .failed(.duplicateHost)),
            Vector("identical duplicate", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", .failed(.duplicateHost)),
            Vector("space inside", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", .failed(.badHost)),
            Vector("slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", .failed(.badHost)),
            Vector("userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", .failed(.badHost)),
            Vector("list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", .failed(.badHost)),
            Vector("IPv6", "GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n", .complete),
        ])
    }

    /// Absolute-form: Host must name what the authority names (HAProxy's rule: case aside, only a default port
    /// may be left out on one side).
    func testHost_mustMatchTheAbsoluteFormAuthority() {
        func request(_ target: String, _ host: String) -> String { "GET \(target) HTTP/1.1\r\nHost: \(host)\r\n\r\n" }
        let mismatch = HTTPHeadResult.failed(.hostMismatchesAuthority)
        check([
            Vector("same", request("http://a.example/p", "a.example"), .complete),
            Vector("case", request("http://A.Example/p", "a.EXAMPLE"), .complete),
            Vector("same port", request("http://a:8080/", "a:8080"), .complete),
            Vector("default port in the URI", request("http://a:80/", "a"), .complete),
            Vector("default port in Host", request("https://a/", "a:443"), .complete),
            Vector("default ports both", request("http://a:80/", "A:80"), .complete),
            Vector("IPv6", request("http://[::1]:80/", "[::1]"), .complete),
            Vector("other host", request("http://a.example/p", "b.example"), mismatch),
            Vector("other port", request("http://a:8080/", "a:8081"), mismatch),
            Vector("port only in the URI", request("http://a:8080/", "a"), mismatch),
            Vector("port only in Host", request("http://a/", "a:8080"), mismatch),
            Vector("another scheme's default", request("http://a/", "a:443"), mismatch),
            Vector("other host, default port", request("http://a:80/", "b"), mismatch),
            Vector("empty Host", request("http://a/", ""), mismatch),
            Vector("origin-form is not checked", request("/p", "anything"), .complete),
            Vector("CONNECT is not checked", "CONNECT a:443 HTTP/1.1\r\nHost: b:443\r\n\r\n", .complete),
            Vector("empty port", request("http://a:/", "a"), .complete),
            Vector("not quite the default", request("http://a:080/", "a"), mismatch),
        ])
    }

    /// A default (or empty) port is found for the proxy to drop from the target, and Host becomes the
    /// authority's host, as HAProxy 2.6 forwards them.
    func testDefaultPort_isMarkedInTheTarget_andDroppedFromARepeatingHost() {
        let repeated = parse("GET http://a.example:80/p HTTP/1.1\r\nHost: a.example:80\r\nX: 1\r\n\r\n")
        XCTAssertEqual(repeated.result, .complete)
        XCTAssertEqual(repeated.text(repeated.head.defaultPortRange), ":80")
        XCTAssertEqual(repeated.text(repeated.head.hostRange), "a.example")
        XCTAssertEqual(repeated.text(repeated.head.value(at: 0)), "a.example", "the table entry is normalized too")
        let other = parse("GET https://a.example/p HTTP/1.1\r\nHost: a.example:443\r\n\r\n")
        XCTAssertNil(other.head.defaultPortRange)
        XCTAssertEqual(other.text(other.head.hostRange), "a.example:443", "nothing dropped from the URI: Host as sent")
        let cased = parse("GET http://A.Example:80/p HTTP/1.1\r\nHost: a.example\r\n\r\n")
        XCTAssertEqual(cased.text(cased.head.value(at: 0)), "A.Example", "Host is the authority's host")
        let empty = parse("GET http://a: HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(empty.text(empty.head.defaultPortRange), ":")
        let kept = parse("GET http://a:8080/ HTTP/1.1\r\nHost: a:8080\r\n\r\n")
        XCTAssertNil(kept.head.defaultPortRange)
        XCTAssertEqual(kept.text(kept.head.hostRange), "a:8080")
        let http10 = parse("GET http://a:80/ HTTP/1.0\r\n\r\n")
        XCTAssertEqual(http10.text(http10.head.defaultPortRange), ":80")
    }

    func testConnectionUpgradeExpect_areSummarised() {
        let parsed = parse(
            "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, UPGRADE\r\nconnection: x-foo,close\r\n"
                + "Upgrade: websocket\r\nExpect: 100-Continue\r\n\r\n"
        )
        XCTAssertEqual(parsed.result, .complete)
        XCTAssertTrue(parsed.head.connectionKeepAlive)
        XCTAssertTrue(parsed.head.connectionUpgrade)
        XCTAssertTrue(parsed.head.connectionClose)
        XCTAssertTrue(parsed.head.hasUpgradeHeader)
        XCTAssertTrue(parsed.head.expectsContinue)

        let plain = parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed, keep-alive-x\r\nExpect: 100\r\n\r\n")
        XCTAssertFalse(plain.head.connectionClose)
        XCTAssertFalse(plain.head.connectionKeepAlive)
        XCTAssertFalse(plain.head.connectionUpgrade)
        XCTAssertFalse(plain.head.hasUpgradeHeader)
        XCTAssertFalse(plain.head.expectsContinue)

        // RFC 9110 §10.1.1: a server ignores 100-continue in an HTTP/1.0 request.
        let http10 = parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        XCTAssertFalse(http10.head.expectsContinue)
    }

    func testReset_clearsEveryField() {
        let parsed = parse(
            "POST http://a/x?y HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: close, upgrade, keep-alive\r\nUpgrade: h2c\r\nExpect: 100-continue\r\n\r\n"
        )
        XCTAssertEqual(parsed.result, .complete)
        let head = parsed.head
        head.reset()
        XCTAssertEqual(head.headerCount, 0)
        XCTAssertEqual(head.headLength, 0)
        XCTAssertNil(head.hostRange)
        XCTAssertNil(head.authorityRange)
        XCTAssertNil(head.schemeRange)
        XCTAssertNil(head.queryRange)
        XCTAssertNil(head.contentLength)
        XCTAssertFalse(
            head.isChunked || head.hasTransferEncoding || head.hadContentLengthAndTransferEncoding
                || head.connectionClose || head.connectionKeepAlive || head.connectionUpgrade
                || head.hasUpgradeHeader || head.expectsContinue
        )
    }
}
