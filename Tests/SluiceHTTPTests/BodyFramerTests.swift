// SPDX-License-Identifier: Apache-2.0
// BodyFramer: Content-Length counting, chunked framing (sizes, extensions, CRLFs, trailers), bodies delimited
// by the connection, the end of input, and the same answer for every way the bytes are split.
import SluiceHTTP
import XCTest

final class BodyFramerTests: XCTestCase {
    func testNoneAndZeroLength_areDoneAtOnce() {
        for length in [BodyLength.none, .contentLength(0)] {
            var framer = BodyFramer(length)
            XCTAssertTrue(framer.isDone)
            XCTAssertEqual(frame("GET / HTTP/1.1\r\n", with: &framer).0, .done(consumed: 0))
        }
    }

    func testContentLength_stopsAtTheEnd_leavingPipelinedBytes() {
        var framer = BodyFramer(.contentLength(5))
        XCTAssertEqual(frame("hel", with: &framer).0, .consumed(3))
        XCTAssertEqual(framer.remainingInChunkOrBody, 2)
        XCTAssertEqual(frame("loGET / HTTP/1.1", with: &framer).0, .done(consumed: 2))
        XCTAssertTrue(framer.isDone)
        XCTAssertEqual(frame("more", with: &framer).0, .done(consumed: 0))
    }

    func testUntilCloseAndTunnel_consumeEverything_andEndWithInput() {
        for length in [BodyLength.untilClose, .tunnel] {
            var framer = BodyFramer(length)
            XCTAssertTrue(framer.endsAtClose)
            XCTAssertEqual(frame("GET / HTTP/1.1\r\n\r\n", with: &framer).0, .consumed(18))
            XCTAssertFalse(framer.isDone)
            XCTAssertEqual(framer.finishAtEndOfInput(), .done(consumed: 0))
            XCTAssertTrue(framer.isDone)
        }
    }

    func testEndOfInput_beforeTheEnd_isATruncatedBody() {
        var counted = BodyFramer(.contentLength(5))
        _ = frame("abc", with: &counted)
        XCTAssertEqual(counted.finishAtEndOfInput(), .failed(.truncatedBody))
        var chunked = BodyFramer(.chunked)
        _ = frame("5\r\nab", with: &chunked)
        XCTAssertEqual(chunked.finishAtEndOfInput(), .failed(.truncatedBody))
        var complete = BodyFramer(.contentLength(1))
        _ = frame("a", with: &complete)
        XCTAssertEqual(complete.finishAtEndOfInput(), .done(consumed: 0))
    }

    /// Valid chunked bodies, each followed by a pipelined request the framer must leave alone.
    static let validChunked = [
        "0\r\n\r\n",
        "5\r\nhello\r\n0\r\n\r\n",
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        "A\r\n0123456789\r\n0\r\n\r\n",
        "a\r\n0123456789\r\n0000\r\n\r\n",
        "005\r\nhello\r\n0\r\n\r\n",
        "5;name=value\r\nhello\r\n0;last\r\n\r\n",
        "5 ;ext\r\nhello\r\n0\t\r\n\r\n",
        "5;a=\"q;\\\"x\"\r\nhello\r\n0\r\n\r\n",
        "5\r\nhe\r\nl\r\n0\r\n\r\n",
        "0\r\nExpires: never\r\nX-Checksum: abc\r\n\r\n",
        "3\r\nabc\r\n0\r\nX:\r\n\r\n",
        "FFFFFFFFFFFFF\r\n",  // largest size accepted: not done yet, see testChunkSizeBound
    ]

    func testChunked_valid_endsExactlyAtTheLastCRLF() {
        for body in Self.validChunked where !body.hasPrefix("FFFF") {
            for pieceSize in [Int.max, 1, 2, 3, 7] {
                var framer = BodyFramer(.chunked)
                let (step, consumed) = frame(body + "GET / HTTP/1.1\r\n\r\n", with: &framer, pieceSize: pieceSize)
                XCTAssertEqual(consumed, body.utf8.count, "\(body.debugDescription) in pieces of \(pieceSize)")
                if case .done = step {} else { XCTFail("\(body.debugDescription): \(step)") }
                XCTAssertTrue(framer.isDone)
            }
        }
    }

    func testChunked_invalid() {
        let table: [(String, HTTPParseError)] = [
            ("\r\n", .badChunkSize),
            ("x\r\n", .badChunkSize),
            ("0x5\r\nhello\r\n0\r\n\r\n", .badChunkSize),
            ("+5\r\nhello\r\n0\r\n\r\n", .badChunkSize),
            ("-1\r\n", .badChunkSize),
            (" 5\r\nhello\r\n0\r\n\r\n", .badChunkSize),
            ("5x\r\nhello\r\n0\r\n\r\n", .badChunkSize),
            ("5 x\r\nhello\r\n0\r\n\r\n", .badChunkSize),
            ("5\nhello\r\n0\r\n\r\n", .badChunkFraming),
            ("5\rhello\r\n0\r\n\r\n", .bareCarriageReturn),
            ("5;ext\nhello\r\n0\r\n\r\n", .badChunkFraming),
            ("5;e\u{0}\r\nhello\r\n0\r\n\r\n", .badChunkSize),
            ("5\r\nhelloX\r\n0\r\n\r\n", .badChunkFraming),
            ("5\r\nhello\n0\r\n\r\n", .badChunkFraming),
            ("5\r\nhello\rX0\r\n\r\n", .badChunkFraming),
            ("5\r\nhello0\r\n\r\n", .badChunkFraming),
            ("0\r\n\n", .badChunkFraming),
            ("0\r\n\rX", .bareCarriageReturn),
            ("0\r\nX: y\n\r\n", .badChunkFraming),
            ("0\r\nX y: z\r\n\r\n", .badTrailer),
            ("0\r\n: z\r\n\r\n", .badTrailer),
            ("0\r\n z\r\n\r\n", .badTrailer),
            ("0\r\nX: a\u{0}b\r\n\r\n", .badTrailer),
            ("0\r\nX: a\rb\r\n\r\n", .bareCarriageReturn),
            ("10000000000000\r\n", .chunkSizeOverflow),
            ("FFFFFFFFFFFFFFFFF\r\n", .chunkSizeOverflow),
            ("100000000000000000000000000000005\r\nhello\r\n0\r\n\r\n", .chunkSizeOverflow),
        ]
        for (body, error) in table {
            for pieceSize in [Int.max, 1] {
                var framer = BodyFramer(.chunked)
                XCTAssertEqual(
                    frame(body, with: &framer, pieceSize: pieceSize).0,
                    .failed(error),
                    body.debugDescription
                )
                // Once failed, it stays failed.
                XCTAssertEqual(frame("0\r\n\r\n", with: &framer).0, .failed(error))
            }
        }
    }

    func testChunkSizeBound_isHAProxys13HexDigits() {
        var largest = BodyFramer(.chunked)
        XCTAssertEqual(frame("FFFFFFFFFFFFF\r\n", with: &largest).0, .consumed(15))
        XCTAssertEqual(largest.remainingInChunkOrBody, BodyFramer.maxChunkSize)
        var leadingZeros = BodyFramer(.chunked)
        XCTAssertEqual(frame("0000000000000000000000001\r\nx\r\n0\r\n\r\n", with: &leadingZeros).1, 35)
    }

    func testChunked_largeChunkData_isSkippedWithoutInspection() {
        var framer = BodyFramer(.chunked)
        XCTAssertEqual(frame("100000\r\n", with: &framer).0, .consumed(8))
        let megabyte = [UInt8](repeating: 0x0A, count: 0x100000)
        let step = megabyte.withUnsafeBytes { framer.feed($0) }
        XCTAssertEqual(step, .consumed(0x100000))
        XCTAssertEqual(frame("\r\n0\r\n\r\nNEXT", with: &framer).0, .done(consumed: 7))
    }

    func testChunked_everySplitOfAMessage_endsAtTheSamePlace() {
        let body = "4;x=y\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: v\r\n\r\n"
        let bytes = Array((body + "GET /").utf8)
        for cut in 0...bytes.count {
            var framer = BodyFramer(.chunked)
            var consumed = 0
            var finished = false
            for piece in [bytes[..<cut], bytes[cut...]] {
                let step = Array(piece).withUnsafeBytes { framer.feed($0) }
                switch step {
                case .consumed(let n): consumed += n
                case .done(let n):
                    consumed += n
                    finished = true
                case .failed(let error): XCTFail("cut \(cut): \(error)")
                }
                if finished { break }
            }
            XCTAssertTrue(finished, "cut \(cut)")
            XCTAssertEqual(consumed, body.utf8.count, "cut \(cut)")
        }
    }
}
