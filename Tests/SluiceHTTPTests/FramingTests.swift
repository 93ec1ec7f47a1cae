// SPDX-License-Identifier: Apache-2.0
// Message framing decided from the head (RFC 9112 §6): Content-Length validation and merging,
// Transfer-Encoding rules, both together, HTTP/1.0, CONNECT, and the body length of requests and responses.
import SluiceHTTP
import XCTest

final class FramingTests: XCTestCase {
    func testContentLength_valid() {
        let table: [(String, Int64, Bool)] = [
            ("0", 0, false), ("5", 5, false), ("007", 7, false), ("5, 5", 5, true), ("5,5,\t5", 5, true),
            ("9223372036854775807", Int64.max, false),
        ]
        for (value, length, needsRewrite) in table {
            let parsed = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(value)\r\n\r\n")
            XCTAssertEqual(parsed.result, .complete, value)
            XCTAssertEqual(parsed.head.contentLength, length, value)
            XCTAssertEqual(parsed.head.contentLengthNeedsRewrite, needsRewrite, value)
            XCTAssertEqual(parsed.head.requestBodyLength(), .contentLength(length), value)
        }
        let twoLines = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n")
        XCTAssertEqual(twoLines.result, .complete)
        XCTAssertEqual(twoLines.head.contentLength, 3)
        XCTAssertTrue(twoLines.head.contentLengthNeedsRewrite)
    }

    func testContentLength_invalid() {
        let table: [(String, HTTPParseError)] = [
            ("", .badContentLength), ("+5", .badContentLength), ("-5", .badContentLength), ("0x5", .badContentLength),
            ("5a", .badContentLength), ("5 5", .badContentLength), ("5.0", .badContentLength),
            ("1e3", .badContentLength),
            ("9223372036854775808", .badContentLength), ("99999999999999999999999", .badContentLength),
            (",5", .badContentLength), ("5,", .badContentLength), ("5,,5", .badContentLength),
            ("\"5\"", .badContentLength), ("5;", .badContentLength), ("５", .badContentLength),
            ("5, 6", .conflictingContentLength), ("5,05,6", .conflictingContentLength),
        ]
        for (value, error) in table {
            let parsed = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(value)\r\n\r\n")
            XCTAssertEqual(parsed.result, .failed(error), "Content-Length: \(value)")
        }
        let twoLines = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n")
        XCTAssertEqual(twoLines.result, .failed(.conflictingContentLength))
    }

    func testTransferEncoding_requestMustEndWithChunkedOnce() {
        let accepted = [
            "chunked", "CHUNKED", "Chunked", "gzip, chunked", "gzip,chunked", "gzip;q=1, chunked", " chunked ,",
        ]
        for value in accepted {
            let parsed = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \(value)\r\n\r\n")
            XCTAssertEqual(parsed.result, .complete, value)
            XCTAssertTrue(parsed.head.isChunked, value)
            XCTAssertEqual(parsed.head.requestBodyLength(), .chunked, value)
        }
        let refused = [
            "", "identity", "gzip", "chunked, gzip", "chunked, chunked", "chunked,identity", "xchunked",
            "chunked x", "chunked;", "\"chunked\"", ",", "chunk", "chunked\u{B}",
        ]
        for value in refused {
            let parsed = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \(value)\r\n\r\n")
            if value == "chunked\u{B}" {
                XCTAssertEqual(parsed.result, .failed(.badHeaderValue), value)
            } else {
                XCTAssertEqual(parsed.result, .failed(.badTransferEncoding), "Transfer-Encoding: \(value)")
            }
        }
        // Several lines are one list, in order.
        let split = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n")
        XCTAssertEqual(split.result, .complete)
        let wrongOrder = parse(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"
        )
        XCTAssertEqual(wrongOrder.result, .failed(.badTransferEncoding))
    }

    func testTransferEncoding_inHTTP10_isRefused() {
        XCTAssertEqual(
            parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").result,
            .failed(.transferEncodingInHTTP10)
        )
        XCTAssertEqual(
            parse("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", response: true).result,
            .failed(.transferEncodingInHTTP10)
        )
    }

    func testContentLengthWithTransferEncoding_dropsContentLength() {
        let parsed = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n")
        XCTAssertEqual(parsed.result, .complete)
        XCTAssertTrue(parsed.head.hadContentLengthAndTransferEncoding)
        XCTAssertNil(parsed.head.contentLength)
        XCTAssertTrue(parsed.head.isChunked)
        XCTAssertEqual(parsed.head.requestBodyLength(), .chunked)
        let reversed = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n")
        XCTAssertTrue(reversed.head.hadContentLengthAndTransferEncoding)
        XCTAssertNil(reversed.head.contentLength)
        let response = parse(
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            response: true
        )
        XCTAssertTrue(response.head.hadContentLengthAndTransferEncoding)
        XCTAssertEqual(response.head.responseBodyLength(requestMethod: .get), .chunked)
        // An invalid Content-Length is refused even next to Transfer-Encoding: whatever the order of the lines.
        XCTAssertEqual(
            parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1, 2\r\n\r\n").result,
            .failed(.conflictingContentLength)
        )
    }

    func testConnect_cannotHaveABody() {
        let zero = parse("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(zero.result, .complete)
        XCTAssertEqual(zero.head.requestBodyLength(), BodyLength.none)
        XCTAssertEqual(
            parse("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 5\r\n\r\n").result,
            .failed(.bodyInConnectRequest)
        )
        XCTAssertEqual(
            parse("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nTransfer-Encoding: chunked\r\n\r\n").result,
            .failed(.bodyInConnectRequest)
        )
    }

    func testRequestBodyLength_withoutFramingHeaders_isNone() {
        XCTAssertEqual(parse("POST / HTTP/1.1\r\nHost: a\r\n\r\n").head.requestBodyLength(), BodyLength.none)
        XCTAssertEqual(parse("GET / HTTP/1.0\r\n\r\n").head.requestBodyLength(), BodyLength.none)
    }

    func testResponseBodyLength_followsRFC9112Section6_3() {
        func length(_ head: String, _ method: HTTPMethod = .get) -> BodyLength? {
            let parsed = parse(head, response: true)
            guard parsed.result == .complete else { return nil }
            return parsed.head.responseBodyLength(requestMethod: method)
        }
        let cl = "Content-Length: 7\r\n"
        let te = "Transfer-Encoding: chunked\r\n"
        XCTAssertEqual(length("HTTP/1.1 200 OK\r\n\(cl)\r\n"), .contentLength(7))
        XCTAssertEqual(length("HTTP/1.1 200 OK\r\n\(te)\r\n"), .chunked)
        XCTAssertEqual(length("HTTP/1.1 200 OK\r\n\r\n"), .untilClose)
        XCTAssertEqual(length("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n"), .untilClose)
        XCTAssertEqual(length("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), .untilClose)
        XCTAssertEqual(length("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\(cl)\r\n"), .untilClose)
        XCTAssertNil(length("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"))
        XCTAssertEqual(length("HTTP/1.1 200 OK\r\n\(cl)\r\n", .head), BodyLength.none)
        XCTAssertEqual(length("HTTP/1.1 200 OK\r\n\(te)\r\n", .head), BodyLength.none)
        XCTAssertEqual(length("HTTP/1.1 204 No Content\r\n\(cl)\r\n"), BodyLength.none)
        XCTAssertEqual(length("HTTP/1.1 304 Not Modified\r\n\(cl)\r\n"), BodyLength.none)
        XCTAssertEqual(length("HTTP/1.1 100 Continue\r\n\r\n"), BodyLength.none)
        XCTAssertEqual(length("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"), BodyLength.none)
        XCTAssertEqual(length("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"), .tunnel)
        XCTAssertEqual(length("HTTP/1.1 200 Connection established\r\n\r\n", .connect), .tunnel)
        XCTAssertEqual(length("HTTP/1.1 407 Proxy Auth\r\n\(cl)\r\n", .connect), .contentLength(7))
        XCTAssertEqual(length("HTTP/1.1 404 Not Found\r\n\r\n", .connect), .untilClose)
    }

    func testInterimResponses_areRecognised() {
        XCTAssertTrue(parse("HTTP/1.1 100 Continue\r\n\r\n", response: true).head.isInterimResponse)
        XCTAssertTrue(parse("HTTP/1.1 103 Early Hints\r\n\r\n", response: true).head.isInterimResponse)
        XCTAssertFalse(parse("HTTP/1.1 101 Switching\r\n\r\n", response: true).head.isInterimResponse)
        XCTAssertFalse(parse("HTTP/1.1 200 OK\r\n\r\n", response: true).head.isInterimResponse)
    }
}
