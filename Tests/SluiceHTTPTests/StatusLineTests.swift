// SPDX-License-Identifier: Apache-2.0
// Status lines (RFC 9112 §4): version, three-digit status in 100...599, optional reason phrase.
import SluiceHTTP
import XCTest

final class StatusLineTests: XCTestCase {
    func testStatusLine_valid() {
        let parsed = parse("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", response: true)
        XCTAssertEqual(parsed.result, .complete)
        XCTAssertFalse(parsed.head.isRequest)
        XCTAssertEqual(parsed.head.status, 404)
        XCTAssertEqual(parsed.text(parsed.head.reasonRange), "Not Found")
        XCTAssertEqual(parsed.head.version, .http11)
        XCTAssertEqual(parsed.head.contentLength, 0)

        let noReason = parse("HTTP/1.0 200\r\n\r\n", response: true)
        XCTAssertEqual(noReason.result, .complete)
        XCTAssertEqual(noReason.head.version, .http10)
        XCTAssertEqual(noReason.text(noReason.head.reasonRange), "")
        let emptyReason = parse("HTTP/1.1 200 \r\n\r\n", response: true)
        XCTAssertEqual(emptyReason.result, .complete)
        XCTAssertEqual(emptyReason.text(emptyReason.head.reasonRange), "")
        let oddReason = parse("HTTP/1.1 599 caf\u{E9}\t(ok)  \r\n\r\n", response: true)
        XCTAssertEqual(oddReason.result, .complete)
        XCTAssertEqual(oddReason.head.status, 599)
        XCTAssertEqual(oddReason.text(oddReason.head.reasonRange), "caf\u{E9}\t(ok)  ")
    }

    func testStatusLine_invalid() {
        check(
            [
                Vector("two-digit status", "HTTP/1.1 20 OK\r\n\r\n", .failed(.badStatusLine)),
                Vector("four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", .failed(.badStatusLine)),
                Vector("status 099", "HTTP/1.1 099 X\r\n\r\n", .failed(.badStatusLine)),
                Vector("status 600", "HTTP/1.1 600 X\r\n\r\n", .failed(.badStatusLine)),
                Vector("letters", "HTTP/1.1 2x0 OK\r\n\r\n", .failed(.badStatusLine)),
                Vector("no space", "HTTP/1.1200 OK\r\n\r\n", .failed(.badStatusLine)),
                Vector("two spaces", "HTTP/1.1  200 OK\r\n\r\n", .failed(.badStatusLine)),
                Vector("tab", "HTTP/1.1\t200 OK\r\n\r\n", .failed(.badStatusLine)),
                Vector("NUL in reason", "HTTP/1.1 200 O\u{0}K\r\n\r\n", .failed(.badStatusLine)),
                Vector("bare CR in reason", "HTTP/1.1 200 O\rK\r\n\r\n", .failed(.bareCarriageReturn)),
                Vector("lowercase version", "http/1.1 200 OK\r\n\r\n", .failed(.badVersion)),
                Vector("HTTP/2", "HTTP/2.0 200 OK\r\n\r\n", .failed(.unsupportedVersion)),
                Vector("truncated", "HTTP/1.1\r\n\r\n", .failed(.badStatusLine)),
                Vector("request", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", .failed(.badStatusLine)),
                Vector("bad header", "HTTP/1.1 200 OK\r\nX : y\r\n\r\n", .failed(.whitespaceBeforeColon)),
                Vector("obs-fold", "HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n", .failed(.obsFold)),
                Vector("bad CL", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", .failed(.badContentLength)),
                Vector("Host is not checked", "HTTP/1.1 200 OK\r\nHost: a b\r\nHost: c\r\n\r\n", .complete),
            ],
            response: true
        )
    }
}
