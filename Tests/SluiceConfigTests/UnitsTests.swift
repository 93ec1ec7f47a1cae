// SPDX-License-Identifier: Apache-2.0
// Units: integers, times (default ms) and sizes (1024-based), and their messages.

import XCTest

@testable import SluiceConfig

final class UnitsTests: XCTestCase {
    func testMilliseconds_everyUnit_converts() {
        XCTAssertEqual(try Units.milliseconds("250").get(), 250)
        XCTAssertEqual(try Units.milliseconds("250ms").get(), 250)
        XCTAssertEqual(try Units.milliseconds("1500us").get(), 2)
        XCTAssertEqual(try Units.milliseconds("3s").get(), 3000)
        XCTAssertEqual(try Units.milliseconds("2m").get(), 120_000)
        XCTAssertEqual(try Units.milliseconds("1h").get(), 3_600_000)
        XCTAssertEqual(try Units.milliseconds("1d").get(), 86_400_000)
    }

    func testMilliseconds_badInput_fails() {
        XCTAssertEqual(Units.milliseconds("5x"), .failure(.badUnit("x")))
        XCTAssertEqual(Units.milliseconds("15min"), .failure(.badUnit("min")))
        XCTAssertEqual(Units.milliseconds("s"), .failure(.notANumber))
        XCTAssertEqual(Units.milliseconds(""), .failure(.empty))
        XCTAssertEqual(Units.milliseconds("25d"), .failure(.overflow))
        XCTAssertEqual(Units.milliseconds("99999999999999999999"), .failure(.overflow))
        XCTAssertEqual(Units.milliseconds("2147483647000d"), .failure(.overflow))
        XCTAssertEqual(Units.milliseconds("2147483647999us"), .failure(.overflow))
    }

    func testBytes_units_are1024Based() {
        XCTAssertEqual(try Units.bytes("512").get(), 512)
        XCTAssertEqual(try Units.bytes("16k").get(), 16384)
        XCTAssertEqual(try Units.bytes("2M").get(), 2 * 1024 * 1024)
        XCTAssertEqual(try Units.bytes("1g").get(), 1024 * 1024 * 1024)
    }

    func testBytes_badInput_fails() {
        XCTAssertEqual(Units.bytes("16kb"), .failure(.badUnit("kb")))
        XCTAssertEqual(Units.bytes("k"), .failure(.notANumber))
        XCTAssertEqual(Units.bytes("4g"), .failure(.overflow))
    }

    func testInteger_rejectsNonDigits() {
        XCTAssertEqual(Units.integer("42"), 42)
        XCTAssertEqual(Units.integer("-1"), -1)
        XCTAssertNil(Units.integer("4k"))
        XCTAssertNil(Units.integer("+4"))
        XCTAssertNil(Units.integer(""))
        XCTAssertNil(Units.integer("99999999999"))
    }

    func testTimeout_badUnit_namesTheUnit() {
        assertDiagnostics(
            inFrontend("timeout client 5x"),
            [
                "[ALERT] parsing [t.cfg:11] : 'timeout client': invalid time unit 'x' in '5x' (expected us, ms, s, m, h or d)"
            ]
        )
    }

    func testTimeout_notANumber_isAlert() {
        assertDiagnostics(
            inFrontend("timeout client fast"),
            ["[ALERT] parsing [t.cfg:11] : 'timeout client' expects a time value (<number>[us|ms|s|m|h|d]), got 'fast'"]
        )
    }

    func testTimeout_overflow_isAlert() {
        assertDiagnostics(
            inFrontend("timeout client 30d"),
            [
                "[ALERT] parsing [t.cfg:11] : 'timeout client': time '30d' is too large (maximum 2147483647 ms, about 24.8 days)"
            ]
        )
    }

    func testBufsize_sizeUnit_isAccepted() {
        XCTAssertEqual(assertValid(inGlobal("tune.bufsize 32k"))?.global.tune.bufferSize, 32768)
    }

    func testBufsize_badSizeUnit_isAlert() {
        assertDiagnostics(
            inGlobal("tune.bufsize 32kb"),
            ["[ALERT] parsing [t.cfg:2] : 'tune.bufsize': invalid size unit 'kb' in '32kb' (expected k, m or g)"]
        )
    }
}
