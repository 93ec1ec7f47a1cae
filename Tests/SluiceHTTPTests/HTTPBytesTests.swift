// SPDX-License-Identifier: Apache-2.0
// The lookup helpers the proxy's rules use: case-insensitive names, n-th header by name, list elements.
import SluiceHTTP
import XCTest

final class HTTPBytesTests: XCTestCase {
    let parsed = parse(
        "GET / HTTP/1.1\r\nHost: a\r\nX-Tag: one\r\nConnection: keep-alive, , X-Tag ,\tUpgrade\r\nx-tag: two\r\n"
            + "X-TAG: three\r\n\r\n"
    )

    func testEqualsIgnoringCase_foldsASCIILettersOnly() {
        parsed.withBytes { bytes in
            XCTAssertTrue(HTTPBytes.equalsIgnoringCase(bytes, parsed.head.name(at: 0), "host"))
            XCTAssertTrue(HTTPBytes.equalsIgnoringCase(bytes, parsed.head.name(at: 0), "HOST"))
            XCTAssertFalse(HTTPBytes.equalsIgnoringCase(bytes, parsed.head.name(at: 0), "hos"))
            XCTAssertFalse(HTTPBytes.equalsIgnoringCase(bytes, parsed.head.name(at: 1), "x-tag!"))
            XCTAssertTrue(HTTPBytes.equals(bytes, parsed.head.methodRange, "GET"))
            XCTAssertFalse(HTTPBytes.equals(bytes, parsed.head.methodRange, "get"))
        }
        // '^' and '~' differ only by the bit a naive `| 0x20` fold would set; both are token characters.
        let odd = parse("GET / HTTP/1.1\r\nHost: a\r\nX-^: 1\r\n\r\n")
        XCTAssertEqual(odd.result, .complete)
        odd.withBytes { bytes in
            XCTAssertFalse(HTTPBytes.equalsIgnoringCase(bytes, odd.head.name(at: 1), "x-~"))
            XCTAssertTrue(HTTPBytes.equalsIgnoringCase(bytes, odd.head.name(at: 1), "x-^"))
        }
    }

    func testHeaderIndex_findsTheNthOccurrence_fromEitherEnd() {
        parsed.withBytes { bytes in
            let head = parsed.head
            XCTAssertEqual(head.headerIndex(named: "x-tag", in: bytes), 1)
            XCTAssertEqual(head.headerIndex(named: "x-tag", occurrence: 1, in: bytes), 3)
            XCTAssertEqual(head.headerIndex(named: "x-tag", occurrence: 2, in: bytes), 4)
            XCTAssertNil(head.headerIndex(named: "x-tag", occurrence: 3, in: bytes))
            XCTAssertEqual(head.headerIndex(named: "x-tag", occurrence: -1, in: bytes), 4)
            XCTAssertEqual(head.headerIndex(named: "x-tag", occurrence: -3, in: bytes), 1)
            XCTAssertNil(head.headerIndex(named: "x-tag", occurrence: -4, in: bytes))
            XCTAssertNil(head.headerIndex(named: "cookie", in: bytes))
            XCTAssertEqual(head.headerLineCount(named: "X-Tag", in: bytes), 3)
            let configName: [UInt8] = Array("HOST".utf8)
            XCTAssertEqual(configName.withUnsafeBytes { head.headerIndex(named: $0, in: bytes) }, 0)
            XCTAssertEqual(parsed.text(head.value(at: 4)), "three")
        }
    }

    func testListElements_skipEmptyElementsAndTrimWhitespace() {
        parsed.withBytes { bytes in
            let value = parsed.head.value(at: 2)
            var elements = HTTPListElements(bytes, in: value)
            var texts: [String] = []
            while let element = elements.next() { texts.append(parsed.text(element)!) }
            XCTAssertEqual(texts, ["keep-alive", "X-Tag", "Upgrade"])
            XCTAssertTrue(HTTPBytes.listContains(bytes, value, "upgrade"))
            XCTAssertTrue(HTTPBytes.listContains(bytes, value, "x-tag"))
            XCTAssertFalse(HTTPBytes.listContains(bytes, value, "close"))
            var empty = HTTPListElements(bytes, in: ByteRange(start: 0, end: 0))
            XCTAssertNil(empty.next())
        }
    }

    /// HAProxy's hdr()/hdr_cnt() view: empty elements count, commas inside quotes do not split (values checked
    /// against HAProxy 2.6 on the wire).
    func testFieldValues_keepEmptyElementsAndQuotedCommas() {
        func elements(_ value: String) -> [String] {
            let bytes = Array(value.utf8)
            return bytes.withUnsafeBytes { raw in
                var it = HTTPFieldValues(raw, in: ByteRange(start: 0, end: Int32(bytes.count)))
                var out: [String] = []
                while let e = it.next() {
                    out.append(String(decoding: raw[Int(e.start)..<Int(e.end)], as: UTF8.self))
                }
                return out
            }
        }
        XCTAssertEqual(elements(""), [""])
        XCTAssertEqual(elements("a,,b"), ["a", "", "b"])
        XCTAssertEqual(elements("a, ,b"), ["a", "", "b"])
        XCTAssertEqual(elements(",a"), ["", "a"])
        XCTAssertEqual(elements("a,"), ["a", ""])
        XCTAssertEqual(elements(" a , b "), ["a", "b"])
        XCTAssertEqual(elements("\"a,b\", c"), ["\"a,b\"", "c"])
        XCTAssertEqual(elements("\"a\\\",b\",c"), ["\"a\\\",b\"", "c"])
        XCTAssertEqual(elements("\"open, c"), ["\"open, c"], "an unterminated quote runs to the end")
    }

    func testByteRange_countAndEmptiness() {
        let range = ByteRange(start: 3, end: 10)
        XCTAssertEqual(range.count, 7)
        XCTAssertFalse(range.isEmpty)
        XCTAssertTrue(ByteRange.empty.isEmpty)
        XCTAssertEqual(ByteRange(start: Int32(4), end: Int32(4)).count, 0)
    }
}
