// SPDX-License-Identifier: Apache-2.0
// Incremental parsing: the same head, split anywhere, parses to the same result; `scanned` resumes the search
// so a slow client costs O(n); pipelined messages; and 10,000 messages through one head allocate nothing.
import Glibc
import SluiceHTTP
import XCTest

final class IncrementalParsingTests: XCTestCase {
    /// Everything a parse produced, for comparing two parses of the same bytes.
    struct Summary: Equatable {
        var result: HTTPHeadResult
        var headLength = 0
        var fields: [[Int32]] = []
        var target = ByteRange.empty
        var path = ByteRange.empty
        var host: ByteRange?
        var contentLength: Int64?
        var isChunked = false

        init(_ result: HTTPHeadResult, _ head: HTTPHead) {
            self.result = result
            guard result == .complete else { return }
            headLength = head.headLength
            fields = (0..<head.headerCount).map {
                [head.name(at: $0).start, head.name(at: $0).end, head.value(at: $0).start, head.value(at: $0).end]
            }
            target = head.target
            path = head.pathRange
            host = head.hostRange
            contentLength = head.contentLength
            isChunked = head.isChunked
        }
    }

    static let messages = [
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "\r\nPOST /x?y HTTP/1.1\nHost: a\nContent-Length: 2\n\nhi",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",
    ]

    func testEverySplitInTwo_givesTheSameResultAsOneCall() {
        for message in Self.messages {
            let bytes = Array(message.utf8)
            let whole = parse(message)
            let expected = Summary(whole.result, whole.head)
            XCTAssertNotEqual(expected.result, .incomplete, message.debugDescription)
            let head = HTTPHead()
            for cut in 0...bytes.count {
                let result = parseIncrementally(bytes, cuts: [cut], into: head)
                XCTAssertEqual(Summary(result, head), expected, "\(message.debugDescription) cut at \(cut)")
            }
        }
    }

    func testEverySplitInThree_andByteByByte_giveTheSameResult() {
        let bytes = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        let whole = parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let expected = Summary(whole.result, whole.head)
        let head = HTTPHead()
        for first in 0...bytes.count {
            for second in first...bytes.count {
                let result = parseIncrementally(bytes, cuts: [first, second], into: head)
                XCTAssertEqual(Summary(result, head), expected, "cuts \(first), \(second)")
            }
        }
        let byteByByte = parseIncrementally(bytes, cuts: Array(0..<bytes.count), into: head)
        XCTAssertEqual(Summary(byteByByte, head), expected)
        let response = Array("HTTP/1.1 204 No Content\r\nX: y\r\n\r\n".utf8)
        for cut in 0...response.count {
            XCTAssertEqual(parseIncrementally(response, cuts: [cut], into: head, response: true), .complete)
            XCTAssertEqual(head.status, 204)
            XCTAssertEqual(head.headLength, response.count)
        }
    }

    func testScanned_resumesWhereTheLastCallStopped() {
        // A slowloris client: one byte per call. Each call starts at `scanned`, which reaches the end of the
        // bytes given, so the total work is linear in the head's size.
        let bytes = Array(
            ("GET / HTTP/1.1\r\nHost: a\r\n" + String(repeating: "X-Slow: y\r\n", count: 50) + "\r\n").utf8
        )
        let head = HTTPHead()
        var scanned = 0
        for end in 1...bytes.count {
            let result = bytes.withUnsafeBytes {
                HTTPHeadParser.parseRequest(
                    UnsafeRawBufferPointer(rebasing: $0[..<end]),
                    into: head,
                    scanned: &scanned,
                    maxHeadBytes: 8192
                )
            }
            if end < bytes.count {
                XCTAssertEqual(result, .incomplete)
                XCTAssertEqual(scanned, end, "the search covered every byte given, once")
            } else {
                XCTAssertEqual(result, .complete)
                XCTAssertEqual(head.headerCount, 51)
            }
        }
    }

    func testPipelinedRequests_parseOneAfterTheOther() {
        let stream = Array(
            ("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n" + "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                + "POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
                + "GET /4 HTTP/1.0\r\n\r\n").utf8
        )
        let head = HTTPHead()
        var offset = 0
        var paths: [String] = []
        while offset < stream.count {
            var scanned = 0
            let rest = Array(stream[offset...])
            let result = rest.withUnsafeBytes {
                HTTPHeadParser.parseRequest($0, into: head, scanned: &scanned, maxHeadBytes: 8192)
            }
            XCTAssertEqual(result, .complete)
            guard result == .complete else { return }
            paths.append(String(decoding: rest[Int(head.pathRange.start)..<Int(head.pathRange.end)], as: UTF8.self))
            var framer = BodyFramer(head.requestBodyLength())
            let step = rest.withUnsafeBytes { framer.feed(UnsafeRawBufferPointer(rebasing: $0[head.headLength...])) }
            guard case .done(let bodyBytes) = step else { return XCTFail("\(step)") }
            offset += head.headLength + bodyBytes
        }
        XCTAssertEqual(paths, ["/1", "/2", "/3", "/4"])
    }

    func testResponses_100ContinueThenFinal_andUntilClose() {
        let stream = Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nbody until close".utf8)
        let head = HTTPHead()
        var scanned = 0
        XCTAssertEqual(
            stream.withUnsafeBytes {
                HTTPHeadParser.parseResponse($0, into: head, scanned: &scanned, maxHeadBytes: 8192)
            },
            .complete
        )
        XCTAssertTrue(head.isInterimResponse)
        XCTAssertEqual(head.responseBodyLength(requestMethod: .post), BodyLength.none)
        let final = Array(stream[head.headLength...])
        scanned = 0
        XCTAssertEqual(
            final.withUnsafeBytes {
                HTTPHeadParser.parseResponse($0, into: head, scanned: &scanned, maxHeadBytes: 8192)
            },
            .complete
        )
        XCTAssertEqual(head.status, 200)
        var framer = BodyFramer(head.responseBodyLength(requestMethod: .post))
        let step = final.withUnsafeBytes { framer.feed(UnsafeRawBufferPointer(rebasing: $0[head.headLength...])) }
        XCTAssertEqual(step, .consumed(16))
        XCTAssertEqual(framer.finishAtEndOfInput(), .done(consumed: 0))
    }

    /// 10,000 messages through one preallocated head, table and framer: the design holds no Array, String or
    /// class allocation on this path. To count mallocs, run this test under valgrind with
    /// SLUICE_HTTP_MESSAGES=10 and =100000: the totals of "heap usage" must be equal (README, "Fuzzing").
    func testTenThousandMessages_reuseOnePreallocatedHead() {
        let messages = [
            Array(
                "GET /a?b HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n"
                    .utf8
            ),
            Array(
                "POST http://x/y HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: v\r\n\r\n"
                    .utf8
            ),
            Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello".utf8),
        ]
        let head = HTTPHead(maxHeaders: 101)
        var completed = 0
        func run(_ count: Int) {
            for i in 0..<count {
                messages[i % 3].withUnsafeBytes { raw in
                    var scanned = 0
                    let isResponse = i % 3 == 2
                    let result =
                        isResponse
                        ? HTTPHeadParser.parseResponse(raw, into: head, scanned: &scanned, maxHeadBytes: 8192)
                        : HTTPHeadParser.parseRequest(raw, into: head, scanned: &scanned, maxHeadBytes: 8192)
                    guard result == .complete else { return }
                    let length = isResponse ? head.responseBodyLength(requestMethod: .get) : head.requestBodyLength()
                    var framer = BodyFramer(length)
                    if case .done = framer.feed(UnsafeRawBufferPointer(rebasing: raw[head.headLength...])) {
                        completed += 1
                    }
                    if let index = head.headerIndex(named: "connection", in: raw) {
                        var elements = HTTPListElements(raw, in: head.value(at: index))
                        while let element = elements.next() { completed += element.isEmpty ? 1 : 0 }
                    }
                }
            }
        }
        let iterations = getenv("SLUICE_HTTP_MESSAGES").flatMap { Int(String(cString: $0)) } ?? 10_000
        run(iterations)
        XCTAssertEqual(completed, iterations)
        XCTAssertEqual(head.maxHeaders, 101)
    }
}
