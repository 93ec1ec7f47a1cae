// SPDX-License-Identifier: Apache-2.0
// LineBuffer: integer and address formatting used by log lines.
import SluiceCore
import XCTest

@testable import SluiceProxy

final class LineBufferTests: XCTestCase {
    private func text(_ build: (inout LineBuffer) -> Void) -> String {
        var line = LineBuffer(capacity: 64)
        build(&line)
        return String(decoding: line.bytes, as: UTF8.self)
    }

    func testAppendInt_formatsZeroNegativeAndLarge() {
        XCTAssertEqual(text { $0.append(0) }, "0")
        XCTAssertEqual(text { $0.append(-42) }, "-42")
        XCTAssertEqual(text { $0.append(Int.max) }, "\(Int.max)")
        XCTAssertEqual(text { $0.append(Int.min) }, "\(Int.min)")
    }

    func testAppendWidth_zeroPads() {
        XCTAssertEqual(text { $0.append(7, width: 3) }, "007")
        XCTAssertEqual(text { $0.append(1234, width: 3) }, "1234")
    }

    func testAppendAddress_ipv4AndIPv6() {
        XCTAssertEqual(text { $0.appendAddress(IPEndpoint(ipv4: 0x7F00_0001, port: 80)) }, "127.0.0.1")
        XCTAssertEqual(text { $0.appendAddress(IPEndpoint(ipv6High: 0, low: 1, port: 80)) }, "::1")
    }

    func testReset_keepsCapacity() {
        var line = LineBuffer(capacity: 128)
        line.append("hello")
        let capacity = line.bytes.capacity
        line.reset()
        XCTAssertEqual(line.count, 0)
        XCTAssertEqual(line.bytes.capacity, capacity)
    }
}
