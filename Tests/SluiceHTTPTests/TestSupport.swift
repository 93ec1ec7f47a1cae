// SPDX-License-Identifier: Apache-2.0
// Test helpers: parse a message given as a String (one call, or fed in pieces), read ranges back as Strings,
// run a body framer over bytes. Tests own the bytes and keep them alive while ranges are read.
import SluiceHTTP
import XCTest

/// A parsed message and the bytes its ranges point into.
struct Parsed {
    let bytes: [UInt8]
    let head: HTTPHead
    let result: HTTPHeadResult

    /// The text of `range`.
    func text(_ range: ByteRange?) -> String? {
        guard let range else { return nil }
        return String(decoding: bytes[Int(range.start)..<Int(range.end)], as: UTF8.self)
    }

    /// The header lines as (name, value) strings, in order.
    var fields: [(String, String)] {
        (0..<head.headerCount).map { (text(head.name(at: $0))!, text(head.value(at: $0))!) }
    }

    /// Runs `body` with the bytes as a raw buffer (for the lookup helpers).
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        bytes.withUnsafeBytes(body)
    }
}

/// Parses `message` as a request (or a response) in one call.
func parse(
    _ message: String,
    response: Bool = false,
    maxHeadBytes: Int = 8192,
    maxHeaders: Int = 101
) -> Parsed {
    let bytes = Array(message.utf8)
    let head = HTTPHead(maxHeaders: maxHeaders)
    var scanned = 0
    let result = bytes.withUnsafeBytes { raw in
        response
            ? HTTPHeadParser.parseResponse(raw, into: head, scanned: &scanned, maxHeadBytes: maxHeadBytes)
            : HTTPHeadParser.parseRequest(raw, into: head, scanned: &scanned, maxHeadBytes: maxHeadBytes)
    }
    return Parsed(bytes: bytes, head: head, result: result)
}

/// Parses `bytes` as a request fed in growing prefixes ending at each of `cuts` and then whole, carrying
/// `scanned` as a session would; returns the first result that is not `.incomplete`, or the last one.
func parseIncrementally(
    _ bytes: [UInt8],
    cuts: [Int],
    into head: HTTPHead,
    response: Bool = false,
    maxHeadBytes: Int = 8192
) -> HTTPHeadResult {
    var scanned = 0
    var result = HTTPHeadResult.incomplete
    for end in cuts + [bytes.count] {
        result = bytes.withUnsafeBytes { raw in
            let prefix = UnsafeRawBufferPointer(rebasing: raw[..<end])
            return response
                ? HTTPHeadParser.parseResponse(prefix, into: head, scanned: &scanned, maxHeadBytes: maxHeadBytes)
                : HTTPHeadParser.parseRequest(prefix, into: head, scanned: &scanned, maxHeadBytes: maxHeadBytes)
        }
        if result != .incomplete { return result }
    }
    return result
}

/// Feeds `text` to `framer` in pieces of `pieceSize` bytes; returns the last step and the total consumed.
func frame(_ text: String, with framer: inout BodyFramer, pieceSize: Int = Int.max) -> (BodyFramer.Step, Int) {
    let bytes = Array(text.utf8)
    var offset = 0
    var consumed = 0
    var last = BodyFramer.Step.consumed(0)
    repeat {
        let end = min(bytes.count, offset + min(pieceSize, bytes.count - offset))
        last = bytes.withUnsafeBytes { framer.feed(UnsafeRawBufferPointer(rebasing: $0[offset..<end])) }
        switch last {
        case .consumed(let n):
            consumed += n
        case .done(let n):
            return (last, consumed + n)
        case .failed:
            return (last, consumed)
        }
        offset = end
    } while offset < bytes.count
    return (last, consumed)
}

/// A test case of the table-driven corpora: a message and the outcome it must have.
struct Vector {
    let name: String
    let message: String
    let expected: HTTPHeadResult
    let line: UInt

    init(_ name: String, _ message: String, _ expected: HTTPHeadResult, line: UInt = #line) {
        self.name = name
        self.message = message
        self.expected = expected
        self.line = line
    }
}

/// Checks every vector as a request (or response), reporting failures at the vector's line.
func check(_ vectors: [Vector], response: Bool = false, file: StaticString = #filePath) {
    for vector in vectors {
        let parsed = parse(vector.message, response: response)
        XCTAssertEqual(parsed.result, vector.expected, vector.name, file: file, line: vector.line)
    }
}
