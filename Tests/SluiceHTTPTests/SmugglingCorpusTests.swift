// SPDX-License-Identifier: Apache-2.0
// The classic request-smuggling vectors (CL.TE, TE.CL, TE.TE obfuscations, line-end tricks): each is either
// refused or framed in exactly one way, and a pipelined request after it is never taken for body bytes.
import SluiceHTTP
import XCTest

final class SmugglingCorpusTests: XCTestCase {
    /// Heads that must be refused (the proxy answers 400 and closes: nothing reaches a server).
    static let refused: [Vector] = [
        Vector(
            "TE: xchunked",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
            .failed(.badTransferEncoding)
        ),
        Vector(
            "TE: chunkedx",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedx\r\n\r\n",
            .failed(.badTransferEncoding)
        ),
        Vector(
            "TE space before colon",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n",
            .failed(.whitespaceBeforeColon)
        ),
        Vector(
            "TE then TE: x",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n",
            .failed(.badTransferEncoding)
        ),
        Vector(
            "TE: chunked, identity",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            .failed(.badTransferEncoding)
        ),
        Vector(
            "TE: identity",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\nContent-Length: 4\r\n\r\n",
            .failed(.badTransferEncoding)
        ),
        Vector(
            "TE: chunked twice",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            .failed(.badTransferEncoding)
        ),
        Vector(
            "TE quoted",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n",
            .failed(.badTransferEncoding)
        ),
        Vector(
            "TE obs-fold",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n",
            .failed(.obsFold)
        ),
        Vector(
            "TE folded value",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x\r\n chunked\r\n\r\n",
            .failed(.obsFold)
        ),
        Vector(
            "TE leading space line",
            "POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: a\r\n\r\n",
            .failed(.obsFold)
        ),
        Vector(
            "TE vertical tab",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\u{B}chunked\r\n\r\n",
            .failed(.badHeaderValue)
        ),
        Vector(
            "TE form feed",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\u{C}\r\n\r\n",
            .failed(.badHeaderValue)
        ),
        Vector(
            "TE NUL",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\u{0}\r\n\r\n",
            .failed(.badHeaderValue)
        ),
        Vector(
            "TE bare CR",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\rX: y\r\n\r\n",
            .failed(.bareCarriageReturn)
        ),
        Vector(
            "TE name with underscore is another header",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            .complete
        ),
        Vector(
            "TE in HTTP/1.0",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n",
            .failed(.transferEncodingInHTTP10)
        ),
        Vector("CL: +5", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", .failed(.badContentLength)),
        Vector(
            "CL: 5, 6",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n",
            .failed(.conflictingContentLength)
        ),
        Vector(
            "CL twice differing",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            .failed(.conflictingContentLength)
        ),
        Vector("CL hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", .failed(.badContentLength)),
        Vector(
            "CL overflow wraps to 0",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n",
            .failed(.badContentLength)
        ),
        Vector(
            "CL space before colon",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n",
            .failed(.whitespaceBeforeColon)
        ),
        Vector("CL folded", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n 5\r\n\r\n", .failed(.badContentLength)),
        Vector("CL NUL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\u{0}\r\n\r\n", .failed(.badHeaderValue)),
        Vector("space in name", "POST / HTTP/1.1\r\nHost: a\r\nContent Length: 5\r\n\r\n", .failed(.badHeaderName)),
        Vector("NUL in header", "GET / HTTP/1.1\r\nHost: a\r\nX: \u{0}\r\n\r\n", .failed(.badHeaderValue)),
        Vector(
            "bare CR ends a line",
            "GET / HTTP/1.1\r\nHost: a\rContent-Length: 5\r\n\r\n",
            .failed(.bareCarriageReturn)
        ),
        Vector("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .failed(.duplicateHost)),
        Vector(
            "CONNECT with body",
            "CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\nContent-Length: 4\r\n\r\n",
            .failed(.bodyInConnectRequest)
        ),
    ]

    func testRefusedVectors() {
        check(Self.refused)
    }

    /// Accepted messages whose body must end exactly before `GPOST` / `GET /admin` (the smuggled request).
    struct Framed {
        let name: String
        let message: String
        let bodyBytes: Int
        let line: UInt

        init(_ name: String, _ message: String, bodyBytes: Int, line: UInt = #line) {
            self.name = name
            self.message = message
            self.bodyBytes = bodyBytes
            self.line = line
        }
    }

    static let framed: [Framed] = [
        // CL.TE: a front end that used Content-Length would forward "0\r\n\r\nG" and leave "POST" behind.
        Framed(
            "CL.TE",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGPOST / HTTP/1.1\r\n\r\n",
            bodyBytes: 5
        ),
        // TE.CL: a back end using Content-Length 4 would see "3c\r\n" and take the rest as a request.
        Framed(
            "TE.CL",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n3c\r\nGPOST / HTTP/1.1\r\nContent-Type: x\r\nContent-Length: 15\r\n\r\nx=1\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n",
            bodyBytes: 71
        ),
        Framed(
            "TE tab before value",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n",
            bodyBytes: 5
        ),
        Framed(
            "TE trailing whitespace",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked \t\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n",
            bodyBytes: 5
        ),
        Framed(
            "TE mixed case",
            "POST / HTTP/1.1\r\nHost: a\r\ntRaNsFeR-eNcOdInG: cHuNkEd\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n",
            bodyBytes: 5
        ),
        Framed(
            "CL: 5, 5 merged",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhelloGET /admin HTTP/1.1\r\n\r\n",
            bodyBytes: 5
        ),
        Framed(
            "LF-only head",
            "POST / HTTP/1.1\nHost: a\nContent-Length: 5\n\nhelloGET /admin HTTP/1.1\r\n\r\n",
            bodyBytes: 5
        ),
        Framed(
            "GET with body",
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 19\r\n\r\nGET /admin HTTP/1.1GET / HTTP/1.1\r\n\r\n",
            bodyBytes: 19
        ),
        Framed("no length means no body", "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /admin HTTP/1.1\r\n\r\n", bodyBytes: 0),
    ]

    func testFramedVectors_bodyEndsBeforeTheNextRequest() {
        for vector in Self.framed {
            let parsed = parse(vector.message)
            XCTAssertEqual(parsed.result, .complete, vector.name, line: vector.line)
            var framer = BodyFramer(parsed.head.requestBodyLength())
            let rest = String(decoding: parsed.bytes[parsed.head.headLength...], as: UTF8.self)
            let (step, consumed) = frame(rest, with: &framer)
            if case .done = step {} else { XCTFail("\(vector.name): \(step)", line: vector.line) }
            XCTAssertEqual(consumed, vector.bodyBytes, vector.name, line: vector.line)
            let next = String(decoding: parsed.bytes[(parsed.head.headLength + consumed)...], as: UTF8.self)
            XCTAssertTrue(
                next.hasPrefix("G"),
                "\(vector.name): next message starts with \(next.prefix(10))",
                line: vector.line
            )
            // The next request parses on its own.
            XCTAssertNotEqual(parse(next).result, .incomplete, vector.name, line: vector.line)
        }
    }

    func testCLTE_dropsContentLengthAndFlagsTheServerConnection() {
        let parsed = parse(Self.framed[0].message)
        XCTAssertTrue(parsed.head.hadContentLengthAndTransferEncoding)
        XCTAssertNil(parsed.head.contentLength)
    }

    /// Chunked bodies that must be refused: the framer never guesses where such a body ends.
    func testChunkedBodyVectors_areRefused() {
        let table: [(String, String)] = [
            ("chunk-size with 0x", "0x5\r\nhello\r\n0\r\n\r\n"),
            ("chunk-size leading junk", "-5\r\nhello\r\n0\r\n\r\n"),
            ("chunk-size trailing junk", "5g\r\nhello\r\n0\r\n\r\n"),
            ("huge chunk size", "FFFFFFFFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n"),
            ("2^64 + 5 (wraps to 5 in 64 bits)", "10000000000000005\r\nhello\r\n0\r\n\r\n"),
            ("missing CRLF after data", "5\r\nhello0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n"),
            ("LF only after data", "5\r\nhello\n0\r\n\r\n"),
            ("LF only after size", "5\nhello\r\n0\r\n\r\n"),
            ("bare LF in extension", "5;a\nb\r\nhello\r\n0\r\n\r\n"),
            ("last chunk LF only", "0\n\n"),
            ("trailer obs-fold", "0\r\nX: a\r\n b\r\n\r\n"),
        ]
        for (name, body) in table {
            var framer = BodyFramer(.chunked)
            let (step, _) = frame(body, with: &framer)
            if case .failed = step {} else { XCTFail("\(name): \(step)") }
        }
    }
}
