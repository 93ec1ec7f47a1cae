// SPDX-License-Identifier: Apache-2.0
// Sections: defaults semantics (last one above, named with `from`, no merging), proxy names, unsupported sections,
// keywords out of any section.

import SluiceConfig
import XCTest

final class SectionTests: XCTestCase {
    func testDefaults_lastOneAboveApplies() {
        let text = """
            defaults
                mode http
                timeout client 1s
            defaults
                timeout client 2s
                timeout connect 1s
                timeout server 1s
            frontend fe
                bind :80
                default_backend be
            backend be
                server s 127.0.0.1:1

            """
        let config = assertValid(text)
        // The second defaults starts fresh: mode is back to tcp.
        XCTAssertEqual(config?.proxies.map(\.mode), [.tcp, .tcp])
        XCTAssertEqual(config?.frontends.first?.timeouts.client, 2000)
    }

    func testDefaults_changeBetweenProxies() {
        let text = """
            defaults
                timeout client 1s
                timeout connect 1s
                timeout server 1s
            frontend fe
                bind :80
                default_backend be
            defaults
                timeout client 9s
                timeout connect 9s
                timeout server 9s
            backend be
                server s 127.0.0.1:1

            """
        let config = assertValid(text)
        XCTAssertEqual(config?.frontends.first?.timeouts.client, 1000)
        XCTAssertEqual(config?.backend(named: "be")?.timeouts.server, 9000)
    }

    func testDefaults_namedWithFrom_isUsed() {
        let text = """
            defaults slow
                timeout client 1m
                timeout connect 1m
                timeout server 1m
            defaults
                timeout client 1s
                timeout connect 1s
                timeout server 1s
            frontend fe from slow
                bind :80
                default_backend be
            backend be
                server s 127.0.0.1:1

            """
        let config = assertValid(text)
        XCTAssertEqual(config?.frontends.first?.timeouts.client, 60000)
        XCTAssertEqual(config?.backend(named: "be")?.timeouts.server, 1000)
    }

    func testDefaults_fromAnotherDefaults_inherits() {
        let text = """
            defaults base
                mode tcp
                timeout client 5s
                timeout connect 5s
                timeout server 5s
                retries 7
            defaults child from base
                timeout client 6s
            frontend fe
                bind :80
                default_backend be
            backend be
                server s 127.0.0.1:1

            """
        let config = assertValid(text)
        XCTAssertEqual(config?.frontends.first?.timeouts.client, 6000)
        XCTAssertEqual(config?.backend(named: "be")?.retries, 7)
    }

    func testDefaults_fromUnknown_isAlert() {
        let text =
            baseDefaults
            + "frontend fe from nope\n  bind :80\n  default_backend be\nbackend be\n  server s 127.0.0.1:1\n"
        assertDiagnostics(text, ["[ALERT] parsing [t.cfg:6] : defaults section 'nope' not found for frontend 'fe'"])
    }

    func testDefaults_fromDeclaredLater_isAlert() {
        let text =
            baseDefaults
            + "frontend fe from later\n  bind :80\n  default_backend be\nbackend be\n  server s 127.0.0.1:1\ndefaults later\n"
        assertDiagnostics(text, ["[ALERT] parsing [t.cfg:6] : defaults section 'later' not found for frontend 'fe'"])
    }

    func testDefaults_ambiguousName_isAlert() {
        let text =
            "defaults d\ndefaults d\n" + baseDefaults
            + "frontend fe from d\n  timeout client 1s\n  bind :80\n  default_backend be\nbackend be\n  server s 127.0.0.1:1\n"
        assertDiagnostics(
            text,
            [
                "[ALERT] parsing [t.cfg:8] : ambiguous defaults section name 'd' referenced by frontend 'fe': declared at t.cfg:1 and t.cfg:2"
            ]
        )
    }

    func testProxyHeader_badFromSyntax_isAlert() {
        assertDiagnostics(
            baseDefaults + "frontend fe :80\n  bind :80\n  default_backend be\nbackend be\n  server s 127.0.0.1:1\n",
            [
                "[ALERT] parsing [t.cfg:6] : 'frontend' cannot handle unexpected argument ':80'; use 'bind' for listening addresses"
            ]
        )
        assertDiagnostics(
            baseDefaults + "backend be from\n  server s 127.0.0.1:1\n",
            ["[ALERT] parsing [t.cfg:6] : 'from' expects the name of a defaults section"]
        )
    }

    func testDefaults_carryFrontendOnlySettingsToFrontendsOnly() {
        let text = inDefaults("maxconn 77", "default_backend be", "retries 1")
        let config = assertValid(text)
        XCTAssertEqual(config?.frontends.first?.maxconn, 77)
        XCTAssertEqual(config?.frontends.first?.defaultBackend, "be")
        XCTAssertNil(config?.backend(named: "be")?.maxconn)
        XCTAssertNil(config?.backend(named: "be")?.defaultBackend)
        XCTAssertEqual(config?.backend(named: "be")?.retries, 1)
    }

    func testProxy_missingName_isAlert() {
        assertDiagnostics(
            baseDefaults + "backend\n  server s 127.0.0.1:1\n",
            ["[ALERT] parsing [t.cfg:6] : 'backend' expects a <name> argument"]
        )
    }

    func testProxy_badNameCharacter_isAlert() {
        assertDiagnostics(
            baseDefaults + "backend b/e\n  server s 127.0.0.1:1\n",
            ["[ALERT] parsing [t.cfg:6] : character '/' is not permitted in 'backend' name 'b/e'"]
        )
    }

    func testProxy_duplicateNameSameCapability_isAlert() {
        let text = inBackend() + "backend be\n  server s 127.0.0.1:2\n"
        assertDiagnostics(
            text,
            ["[ALERT] parsing [t.cfg:11] : backend 'be' has the same name as backend 'be' declared at t.cfg:9"]
        )
    }

    func testProxy_listenClashesWithFrontend() {
        let text = inBackend() + "listen fe\n  bind :81\n  server s 127.0.0.1:2\n"
        assertDiagnostics(
            text,
            ["[ALERT] parsing [t.cfg:11] : listen 'fe' has the same name as frontend 'fe' declared at t.cfg:6"]
        )
    }

    func testProxy_frontendAndBackendMayShareName() {
        let text =
            baseDefaults + "frontend app\n  bind :80\n  default_backend app\nbackend app\n  server s 127.0.0.1:1\n"
        XCTAssertEqual(assertValid(text)?.proxies.map(\.name), ["app", "app"])
    }

    func testUnsupportedSection_isOneAlertAndBodySkipped() {
        let text = inBackend() + "resolvers dns\n  nameserver a 10.0.0.1:53\n  hold valid 10s\n"
        assertDiagnostics(text, ["[ALERT] parsing [t.cfg:11] : section 'resolvers' is not supported by sluice"])
    }

    func testKeywordOutOfSection_isAlert() {
        assertDiagnostics(
            "maxconn 10\n" + inBackend(),
            ["[ALERT] parsing [t.cfg:1] : 'maxconn' found out of section (it must follow a section keyword)"]
        )
    }

    func testUnknownKeywordOutOfSection_suggestsSection() {
        assertDiagnostics(
            "fronted fe\n" + inBackend(),
            ["[ALERT] parsing [t.cfg:1] : unknown keyword 'fronted' out of section; did you mean 'frontend'?"]
        )
    }

    func testConditionalDirective_isNotSupported() {
        assertDiagnostics(
            inBackend(".if defined(X)", ".endif"),
            [
                "[ALERT] parsing [t.cfg:11] : '.if' is not supported by sluice",
                "[ALERT] parsing [t.cfg:12] : '.endif' is not supported by sluice",
            ]
        )
    }

    func testSectionPseudoVariable_namesCurrentSection() {
        let config = assertValid(inFrontend("bind \"unix@/run/${.SECTION}-${.LINE}.sock\""))
        XCTAssertEqual(config?.frontends.first?.binds.last?.addresses, [.unix(path: "/run/fe-11.sock")])
    }

    func testModel_proxiesInFileOrder_withLocations() {
        let config = assertValid(inBackend())
        XCTAssertEqual(config?.proxies.map(\.name), ["fe", "be"])
        XCTAssertEqual(config?.proxies.map(\.location.line), [6, 9])
        XCTAssertEqual(config?.proxies.map(\.capabilities), [.frontend, .backend])
    }
}
