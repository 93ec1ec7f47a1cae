// SPDX-License-Identifier: Apache-2.0
// HealthState: the rise/fall state machine, interval choice and `observe layer4` actions as pure logic (no
// sockets, no clock); plus the check plan's request bytes, timeouts and status expectations.
import SluiceConfig
import SluiceCore
import XCTest

@testable import SluiceProxy

final class HealthStateTests: XCTestCase {
    private let here = SourceLocation(file: "test.cfg", line: 1)

    private func settings(inter: Int = 2000, fast: Int? = nil, down: Int? = nil) -> HealthCheckSettings {
        var s = HealthCheckSettings()
        s.isEnabled = true
        s.intervalMs = inter
        s.fastIntervalMs = fast
        s.downIntervalMs = down
        return s
    }

    // MARK: start

    func testStart_isUpButOneFailureFromDown() {
        var h = HealthState(rise: 2, fall: 3)
        XCTAssertTrue(h.isUp)
        XCTAssertFalse(h.isFullyUp)
        XCTAssertEqual(h.recordFailure(), HealthChange(counterChanged: true, transition: .wentDown))
        XCTAssertFalse(h.isUp)
        XCTAssertEqual(h.health, 0)
    }

    func testStart_firstSuccessMakesFullyUp() {
        var h = HealthState(rise: 2, fall: 3)
        XCTAssertEqual(h.recordPass(), HealthChange(counterChanged: true, transition: .none))
        XCTAssertTrue(h.isFullyUp)
        XCTAssertEqual(h.health, 4)
    }

    func testStart_withFallOne_isFullyUp() {
        let h = HealthState(rise: 2, fall: 1)
        XCTAssertTrue(h.isFullyUp)
    }

    // MARK: fall

    func testFall_consecutiveFailuresFromFullyUp_goDownAtTheFallth() {
        var h = HealthState(rise: 2, fall: 3)
        _ = h.recordPass()
        XCTAssertEqual(h.recordFailure().transition, .none)
        XCTAssertEqual(h.recordFailure().transition, .none)
        XCTAssertTrue(h.isUp)
        XCTAssertEqual(h.recordFailure().transition, .wentDown)
        XCTAssertFalse(h.isUp)
    }

    func testFall_successInBetween_restartsTheCount() {
        var h = HealthState(rise: 2, fall: 3)
        _ = h.recordPass()
        _ = h.recordFailure()
        _ = h.recordFailure()
        XCTAssertEqual(h.recordPass(), HealthChange(counterChanged: true, transition: .none))
        XCTAssertTrue(h.isFullyUp)
        _ = h.recordFailure()
        _ = h.recordFailure()
        XCTAssertTrue(h.isUp, "two failures after a success must not take a fall-3 server down")
    }

    func testFall_failureWhileDown_changesNothing() {
        var h = HealthState(rise: 2, fall: 3)
        _ = h.recordFailure()
        XCTAssertEqual(h.recordFailure(), .nothing)
    }

    func testPass_whileFullyUp_changesNothing() {
        var h = HealthState(rise: 2, fall: 3)
        _ = h.recordPass()
        XCTAssertEqual(h.recordPass(), .nothing)
    }

    // MARK: rise

    func testRise_consecutiveSuccessesFromDown_comeUpAtTheRiseth() {
        var h = HealthState(rise: 3, fall: 2)
        _ = h.recordFailure()
        XCTAssertFalse(h.isUp)
        XCTAssertEqual(h.recordPass().transition, .none)
        XCTAssertEqual(h.recordPass().transition, .none)
        XCTAssertEqual(h.recordPass(), HealthChange(counterChanged: true, transition: .wentUp))
        XCTAssertTrue(h.isFullyUp)
    }

    func testRise_failureInBetween_restartsTheCount() {
        var h = HealthState(rise: 2, fall: 2)
        _ = h.recordFailure()
        _ = h.recordPass()
        XCTAssertEqual(h.recordFailure(), HealthChange(counterChanged: true, transition: .none))
        XCTAssertEqual(h.health, 0)
        XCTAssertEqual(h.recordPass().transition, .none)
        XCTAssertEqual(h.recordPass().transition, .wentUp)
    }

    func testRise_one_comesUpAtFirstSuccess() {
        var h = HealthState(rise: 1, fall: 1)
        XCTAssertEqual(h.recordFailure().transition, .wentDown)
        XCTAssertEqual(h.recordPass().transition, .wentUp)
    }

    // MARK: intervals

    func testInterval_fullyUp_isInter() {
        var h = HealthState(rise: 2, fall: 3)
        _ = h.recordPass()
        XCTAssertEqual(h.intervalMs(settings(inter: 1000, fast: 100, down: 5000)), 1000)
    }

    func testInterval_goingDown_isFastinter() {
        var h = HealthState(rise: 2, fall: 3)
        _ = h.recordPass()
        _ = h.recordFailure()
        XCTAssertEqual(h.intervalMs(settings(inter: 1000, fast: 100, down: 5000)), 100)
    }

    func testInterval_atStart_isFastinter() {
        // HAProxy: health == rise < rise + fall - 1 is "transitioning".
        let h = HealthState(rise: 2, fall: 3)
        XCTAssertEqual(h.intervalMs(settings(inter: 1000, fast: 100, down: 5000)), 100)
    }

    func testInterval_down_isDowninter() {
        var h = HealthState(rise: 2, fall: 3)
        _ = h.recordFailure()
        XCTAssertEqual(h.intervalMs(settings(inter: 1000, fast: 100, down: 5000)), 5000)
    }

    func testInterval_goingUp_isFastinter() {
        var h = HealthState(rise: 3, fall: 3)
        _ = h.recordFailure()
        _ = h.recordPass()
        XCTAssertEqual(h.intervalMs(settings(inter: 1000, fast: 100, down: 5000)), 100)
    }

    func testInterval_withoutFastOrDown_isInterEverywhere() {
        var h = HealthState(rise: 2, fall: 3)
        let s = settings(inter: 700)
        XCTAssertEqual(h.intervalMs(s), 700)
        _ = h.recordFailure()
        XCTAssertEqual(h.intervalMs(s), 700)
        _ = h.recordPass()
        XCTAssertEqual(h.intervalMs(s), 700)
    }

    // MARK: observe layer4

    func testObserve_reachesLimit_onConsecutiveErrorsOnly() {
        var h = HealthState(rise: 2, fall: 3)
        XCTAssertNil(h.observeError(limit: 3))
        XCTAssertNil(h.observeError(limit: 3))
        h.observeSuccess()
        XCTAssertNil(h.observeError(limit: 3))
        XCTAssertNil(h.observeError(limit: 3))
        XCTAssertEqual(h.observeError(limit: 3), 3)
        XCTAssertEqual(h.consecutiveErrors, 0, "the count restarts after the action")
    }

    func testObserve_passedCheck_clearsErrors() {
        var h = HealthState(rise: 2, fall: 3)
        _ = h.observeError(limit: 10)
        _ = h.recordPass()
        XCTAssertEqual(h.consecutiveErrors, 0)
    }

    func testOnError_markDown_takesAFullyUpServerDown() {
        var h = HealthState(rise: 2, fall: 5)
        _ = h.recordPass()
        XCTAssertEqual(h.applyOnError(.markDown).transition, .wentDown)
    }

    func testOnError_failCheck_countsOneFailure() {
        var h = HealthState(rise: 2, fall: 3)
        _ = h.recordPass()
        XCTAssertEqual(h.applyOnError(.failCheck), HealthChange(counterChanged: true, transition: .none))
        XCTAssertEqual(h.health, 3)
    }

    func testOnError_suddenDeath_leavesOneFailureBeforeDown() {
        var h = HealthState(rise: 2, fall: 5)
        _ = h.recordPass()
        XCTAssertEqual(h.applyOnError(.suddenDeath).transition, .none)
        XCTAssertTrue(h.isUp)
        XCTAssertEqual(h.recordFailure().transition, .wentDown)
    }

    func testOnError_fastinter_changesNoHealth() {
        var h = HealthState(rise: 2, fall: 3)
        _ = h.recordPass()
        XCTAssertEqual(h.applyOnError(.fastInter), .nothing)
        XCTAssertTrue(h.isFullyUp)
    }

    // MARK: maintenance and reload

    func testResumeAfterMaintenance_downServer_isUpOneFailureFromDown() {
        var h = HealthState(rise: 2, fall: 3)
        _ = h.recordFailure()
        XCTAssertEqual(h.resumeAfterMaintenance().transition, .wentUp)
        XCTAssertEqual(h.health, 2)
        XCTAssertEqual(h.recordFailure().transition, .wentDown)
    }

    func testAdopt_keepsDownServerDown() {
        var h = HealthState(rise: 2, fall: 3)
        _ = h.recordFailure()
        _ = h.recordPass()
        h.adopt(rise: 5, fall: 1)
        XCTAssertFalse(h.isUp)
        XCTAssertEqual(h.health, 1, "successes already counted stay counted")
        h.adopt(rise: 1, fall: 1)
        XCTAssertFalse(h.isUp, "a smaller rise does not bring the server up by itself")
        XCTAssertEqual(h.health, 0)
    }

    func testAdopt_keepsUpServerUp_withFailuresCounted() {
        var h = HealthState(rise: 2, fall: 3)
        _ = h.recordPass()
        _ = h.recordFailure()
        h.adopt(rise: 3, fall: 5)
        XCTAssertTrue(h.isUp)
        XCTAssertEqual(h.health, 6)
        h.adopt(rise: 3, fall: 1)
        XCTAssertTrue(h.isUp)
        XCTAssertEqual(h.health, 3)
    }

    func testProgressText_matchesHAProxy() {
        var h = HealthState(rise: 2, fall: 3)
        _ = h.recordPass()
        XCTAssertEqual(h.progressText, "3/3 UP")
        _ = h.recordFailure()
        XCTAssertEqual(h.progressText, "2/3 UP")
        h = HealthState(rise: 2, fall: 3)
        _ = h.recordFailure()
        XCTAssertEqual(h.progressText, "0/2 DOWN")
        _ = h.recordPass()
        XCTAssertEqual(h.progressText, "1/2 DOWN")
    }

    // MARK: statuses and plans

    func testCheckStatus_reasonsAndPassing() {
        XCTAssertEqual(CheckStatus.layer4Connection.reason, "Layer4 connection problem")
        XCTAssertEqual(CheckStatus.layer7Status.reason, "Layer7 wrong status")
        XCTAssertTrue(CheckStatus.layer6Passed.isPassed)
        XCTAssertFalse(CheckStatus.layer4Timeout.isPassed)
        XCTAssertTrue(CheckStatus.layer7Passed.hasCode)
        XCTAssertFalse(CheckStatus.layer4Passed.hasCode)
    }

    func testHTTPRequest_optionHttpchkOnly() {
        var c = HTTPCheck(location: here)
        c.method = "GET"
        c.uri = "/health"
        XCTAssertEqual(String(decoding: CheckPlan.httpRequest(c), as: UTF8.self), "GET /health HTTP/1.0\r\n\r\n")
    }

    func testHTTPRequest_withHeadersAndBody() {
        var c = HTTPCheck(location: here)
        c.version = "HTTP/1.1"
        c.headers = [HTTPHeaderField(name: "Host", value: LogFormat(literal: "example.com"))]
        c.body = "ping"
        XCTAssertEqual(
            String(decoding: CheckPlan.httpRequest(c), as: UTF8.self),
            "OPTIONS / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n\r\nping"
        )
    }

    private func plan(inter: Int, check: Int?, connect: Int?) -> CheckPlan {
        CheckPlan(
            settings: settings(inter: inter),
            endpoint: .none,
            tlsContext: nil,
            serverName: nil,
            request: [],
            expect: .successOrRedirect,
            timeoutCheckMs: check,
            connectTimeoutMs: connect,
            logsEveryChange: false
        )
    }

    func testStartTimeout_followsTimeoutCheckRule() {
        XCTAssertEqual(plan(inter: 2000, check: nil, connect: 500).startTimeoutMs, 2000, "no timeout check: inter")
        XCTAssertEqual(plan(inter: 2000, check: 300, connect: 500).startTimeoutMs, 500, "min(inter, connect)")
        XCTAssertEqual(plan(inter: 200, check: 300, connect: 500).startTimeoutMs, 200, "min(inter, connect)")
        XCTAssertEqual(plan(inter: 2000, check: 300, connect: nil).startTimeoutMs, 2000)
    }

    private func passes(_ e: CheckExpectation, _ code: Int) -> Bool {
        let digits = Array(String(code).utf8)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
        defer { scratch.deallocate() }
        return digits.withUnsafeBytes { e.passes(code: code, digits: $0, scratch: scratch) }
    }

    func testExpect_default_is2xxOr3xx() {
        XCTAssertTrue(passes(.successOrRedirect, 200))
        XCTAssertTrue(passes(.successOrRedirect, 302))
        XCTAssertFalse(passes(.successOrRedirect, 404))
        XCTAssertFalse(passes(.successOrRedirect, 500))
    }

    func testExpect_statusRangesAndNegation() {
        XCTAssertTrue(passes(.status([500...500], isNegated: false), 500))
        XCTAssertFalse(passes(.status([500...500], isNegated: false), 200))
        XCTAssertTrue(passes(.status([200...299, 404...404], isNegated: false), 404))
        XCTAssertFalse(passes(.status([500...599], isNegated: true), 503))
        XCTAssertTrue(passes(.status([500...599], isNegated: true), 200))
    }

    func testExpect_statusRegex() {
        let regex = CompiledRegex("^2[0-9][0-9]$", ignoreCase: false)!
        XCTAssertTrue(passes(.statusRegex(regex, isNegated: false), 204))
        XCTAssertFalse(passes(.statusRegex(regex, isNegated: false), 301))
        XCTAssertTrue(passes(.statusRegex(regex, isNegated: true), 301))
    }

    func testInfoText_isAsciiEncodedAsHAProxyDoes() {
        XCTAssertEqual(Loop.asciiEncoded("Foo \"bar\""), "Foo <22>bar<22>")
        XCTAssertEqual(Loop.asciiEncoded("a<b>\tc"), "a<3C>b<3E><09>c")
        XCTAssertEqual(Loop.asciiEncoded("Connection refused"), "Connection refused")
    }
}
