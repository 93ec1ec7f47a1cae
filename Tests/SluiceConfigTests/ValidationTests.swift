// SPDX-License-Identifier: Apache-2.0
// The second pass: backend references, mode agreement, frontends without bind, missing timeouts, unused backends.

import SluiceConfig
import XCTest

final class ValidationTests: XCTestCase {
    func testDefaultBackend_unknown_isAlertWithSuggestion() {
        let text = baseDefaults + "frontend fe\n  bind :80\n  default_backend bee\nbackend be\n  server s 127.0.0.1:1\n"
        assertDiagnostics(
            text,
            [
                "[ALERT] parsing [t.cfg:8] : frontend 'fe': unable to find required default_backend: 'bee'; did you mean 'be'?",
                "[WARNING] parsing [t.cfg:9] : backend 'be' is not used by any frontend",
            ]
        )
    }

    func testUseBackend_unknown_isAlert() {
        assertDiagnostics(
            inFrontend("use_backend other if TRUE"),
            ["[ALERT] parsing [t.cfg:11] : frontend 'fe': unable to find required use_backend: 'other'"]
        )
    }

    func testUseBackend_frontendName_isNotABackend() {
        let text = inFrontend("use_backend fe")
        assertDiagnostics(
            text,
            [
                "[ALERT] parsing [t.cfg:11] : frontend 'fe': unable to find required use_backend: 'fe'; did you mean 'be'?"
            ]
        )
    }

    func testUseBackend_listenSection_isABackend() {
        let text = inFrontend("use_backend app if FALSE") + "listen app\n  bind :81\n  server s 127.0.0.1:2\n"
        assertValid(text)
    }

    func testModeMismatch_tcpFrontendHttpBackend_isAlert() {
        let text =
            baseDefaults
            + "frontend fe\n  bind :80\n  default_backend be\nbackend be\n  mode http\n  server s 127.0.0.1:1\n"
        assertDiagnostics(
            text,
            [
                "[ALERT] parsing [t.cfg:8] : frontend 'fe' (mode tcp) cannot use backend 'be' (mode http) in 'default_backend': modes must match"
            ]
        )
    }

    func testModeMismatch_httpFrontendTcpBackend_isAlert() {
        let text =
            baseDefaults
            + "frontend fe\n  mode http\n  bind :80\n  use_backend be if TRUE\n  default_backend web\nbackend be\n"
            + "  server s 127.0.0.1:1\nbackend web\n  mode http\n  server s 127.0.0.1:2\n"
        assertDiagnostics(
            text,
            [
                "[ALERT] parsing [t.cfg:9] : frontend 'fe' (mode http) cannot use backend 'be' (mode tcp) in 'use_backend': modes must match"
            ]
        )
    }

    func testFrontend_withoutBind_isAlert() {
        let text = baseDefaults + "frontend fe\n  default_backend be\nbackend be\n  server s 127.0.0.1:1\n"
        assertDiagnostics(text, ["[ALERT] parsing [t.cfg:6] : frontend 'fe' has no 'bind' directive"])
    }

    func testFrontend_withFailedBind_reportsOnlyTheBind() {
        let text = baseDefaults + "frontend fe\n  bind :0\n  default_backend be\nbackend be\n  server s 127.0.0.1:1\n"
        assertDiagnostics(text, ["[ALERT] parsing [t.cfg:7] : 'bind :0' : invalid port '0'"])
    }

    func testListen_withoutBind_isWarning() {
        let text = inFrontend("use_backend app if FALSE") + "listen app\n  server s 127.0.0.1:2\n"
        assertDiagnostics(
            text,
            ["[WARNING] parsing [t.cfg:12] : listen 'app' has no 'bind' directive; it only works as a backend"]
        )
    }

    func testMissingTimeouts_areWarnings() {
        let text =
            "frontend fe\n  bind :80\n  default_backend be\nbackend be\n  timeout server 1s\n  server s 127.0.0.1:1\n"
        let result = parse(text)
        XCTAssertNotNil(result.configuration)
        XCTAssertEqual(
            result.diagnostics.map(\.rendered),
            [
                "[WARNING] parsing [t.cfg:1] : missing timeouts for frontend 'fe': please set 'timeout client'",
                "[WARNING] parsing [t.cfg:4] : missing timeouts for backend 'be': please set 'timeout connect'",
            ]
        )
    }

    func testMissingTimeouts_listenNeedsAllThree() {
        assertDiagnostics(
            "listen app\n  bind :80\n  server s 127.0.0.1:1\n",
            [
                "[WARNING] parsing [t.cfg:1] : missing timeouts for listen 'app': please set 'timeout client', 'timeout connect' and 'timeout server'"
            ]
        )
    }

    func testUnusedBackend_isWarning() {
        assertDiagnostics(
            inBackend() + "backend spare\n  server s 127.0.0.1:2\n",
            ["[WARNING] parsing [t.cfg:11] : backend 'spare' is not used by any frontend"]
        )
    }

    func testUnusedBackend_withoutServers_isNotReported() {
        assertValid(inBackend() + "backend tables\n")
    }

    func testUnusedBackend_namedByFailedRule_isNotReported() {
        assertDiagnostics(
            inFrontend("use_backend spare if { req.cook(x) y }") + "backend spare\n  server s 127.0.0.1:2\n",
            ["[ALERT] parsing [t.cfg:11] : anonymous ACL: fetch 'req.cook' is not supported by sluice"]
        )
    }
}
