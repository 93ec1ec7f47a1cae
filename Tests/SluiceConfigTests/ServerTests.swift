// SPDX-License-Identifier: Apache-2.0
// `server` and `default-server`: addresses, resolution, options, duplicates and refusals.

import SluiceConfig
import XCTest

final class ServerTests: XCTestCase {
    private func servers(_ lines: String..., file: StaticString = #filePath, line: UInt = #line) -> [ServerConfig] {
        let text =
            baseDefaults + "frontend fe\n  bind :80\n  default_backend be\nbackend be\n"
            + lines.map { $0 + "\n" }.joined()
        return assertValid(text, file: file, line: line)?.backend(named: "be")?.servers ?? []
    }

    func testServer_ipv4WithOptions_isParsed() {
        let server = servers("server s1 10.0.0.1:5432 weight 20 maxconn 100 backup disabled").first
        XCTAssertEqual(server?.name, "s1")
        XCTAssertEqual(server?.addressText, "10.0.0.1:5432")
        XCTAssertEqual(server?.address, .ipv4(address: 0x0A00_0001, port: 5432))
        XCTAssertEqual(server?.options.weight, 20)
        XCTAssertEqual(server?.options.maxconn, 100)
        XCTAssertEqual(server?.options.isBackup, true)
        XCTAssertEqual(server?.options.isDisabled, true)
        XCTAssertEqual(server?.location, SourceLocation(file: "t.cfg", line: 10))
    }

    func testServer_defaults_areWeightOneUnlimited() {
        let options = servers("server s1 10.0.0.1:80").first?.options
        XCTAssertEqual(options, ServerOptions())
        XCTAssertEqual(options?.weight, 1)
        XCTAssertNil(options?.maxconn)
    }

    func testServer_hostNameIPv6AndUnix_areParsed() {
        let list = servers(
            "server a db.internal:5432",
            "server b [::1]:80",
            "server c v6only.internal:80",
            "server d unix@/run/app.sock",
            "server e ipv4@10.0.0.2:81"
        )
        XCTAssertEqual(
            list.map(\.address),
            [
                .ipv4(address: 0x0A00_0005, port: 5432), .ipv6(address: IPv6Bytes(high: 0, low: 1), port: 80),
                .ipv6(address: IPv6Bytes(high: 0x2001_0db8_0000_0000, low: 1), port: 80), .unix(path: "/run/app.sock"),
                .ipv4(address: 0x0A00_0002, port: 81),
            ]
        )
    }

    func testServer_environmentInAddress_isExpanded() {
        XCTAssertEqual(servers("server a ${HOST}:80").first?.address, .ipv4(address: 0x0A00_0007, port: 80))
    }

    func testServer_unresolvable_isAlert() {
        assertDiagnostics(
            inBackend("server s2 web:80"),
            ["[ALERT] parsing [t.cfg:11] : 'server be/s2' : could not resolve address 'web'"]
        )
    }

    func testServer_missingPort_isAlert() {
        assertDiagnostics(
            inBackend("server s2 10.0.0.1"),
            ["[ALERT] parsing [t.cfg:11] : 'server be/s2' : missing port in '10.0.0.1' (sluice needs <addr>:<port>)"]
        )
    }

    func testServer_portRangeAndOffset_areAlerts() {
        assertDiagnostics(
            inBackend("server s2 10.0.0.1:80-81", "server s3 10.0.0.1:+1"),
            [
                "[ALERT] parsing [t.cfg:11] : 'server be/s2' : port range not permitted here in '10.0.0.1:80-81'",
                "[ALERT] parsing [t.cfg:12] : 'server be/s3' : port offsets ('+1') are not supported by sluice",
            ]
        )
    }

    func testServer_invalidPort_isAlert() {
        assertDiagnostics(
            inBackend("server s2 10.0.0.1:65536"),
            ["[ALERT] parsing [t.cfg:11] : 'server be/s2' : invalid port '65536'"]
        )
    }

    func testServer_missingArguments_isAlert() {
        assertDiagnostics(
            inBackend("server s2"),
            ["[ALERT] parsing [t.cfg:11] : 'server' expects <name> and <addr>:<port> as arguments"]
        )
    }

    func testServer_badName_isAlert() {
        assertDiagnostics(
            inBackend("server s/2 10.0.0.1:80"),
            ["[ALERT] parsing [t.cfg:11] : character '/' is not permitted in server name 's/2'"]
        )
    }

    func testServer_weightOutOfRange_isAlert() {
        assertDiagnostics(
            inBackend("server s2 10.0.0.1:80 weight 300"),
            ["[ALERT] parsing [t.cfg:11] : 'server be/s2' : 'weight' expects an integer from 0 to 256, got '300'"]
        )
    }

    func testServer_weightZeroAnd256_areAccepted() {
        XCTAssertEqual(
            servers("server a 10.0.0.1:80 weight 0", "server b 10.0.0.1:81 weight 256").map(\.options.weight),
            [0, 256]
        )
    }

    func testServer_maxconnZero_meansUnlimited() {
        XCTAssertNil(servers("server a 10.0.0.1:80 maxconn 0").first?.options.maxconn)
    }

    func testServer_badMaxconn_isAlert() {
        assertDiagnostics(
            inBackend("server s2 10.0.0.1:80 maxconn 2k"),
            ["[ALERT] parsing [t.cfg:11] : 'server be/s2' : 'maxconn' expects a non-negative integer, got '2k'"]
        )
    }

    func testServer_optionMissingValue_isAlert() {
        assertDiagnostics(
            inBackend("server s2 10.0.0.1:80 weight"),
            ["[ALERT] parsing [t.cfg:11] : 'server be/s2' : 'weight' expects an argument"]
        )
    }

    func testServer_unsupportedOptions_eachOneAlert() {
        assertDiagnostics(
            inBackend("server s2 10.0.0.1:80 cookie a check slowstart 10s resolvers dns send-proxy-v2-ssl weight 5"),
            [
                "[ALERT] parsing [t.cfg:11] : server option 'cookie' is not supported by sluice",
                "[ALERT] parsing [t.cfg:11] : server option 'slowstart' is not supported by sluice",
                "[ALERT] parsing [t.cfg:11] : server option 'resolvers' is not supported by sluice",
                "[ALERT] parsing [t.cfg:11] : server option 'send-proxy-v2-ssl' is not supported by sluice",
            ]
        )
    }

    func testServer_unknownOption_isAlertWithSuggestion() {
        assertDiagnostics(
            inBackend("server s2 10.0.0.1:80 wieght 3"),
            ["[ALERT] parsing [t.cfg:11] : 'server be/s2' : unknown option 'wieght'; did you mean 'weight'?"]
        )
    }

    func testServer_badAddressAndBadOption_bothReported() {
        assertDiagnostics(
            inBackend("server s2 web:80 slowstart 1s"),
            [
                "[ALERT] parsing [t.cfg:11] : 'server be/s2' : could not resolve address 'web'",
                "[ALERT] parsing [t.cfg:11] : server option 'slowstart' is not supported by sluice",
            ]
        )
    }

    func testServer_duplicateName_isAlert() {
        assertDiagnostics(
            inBackend("server s1 10.0.0.2:80"),
            [
                "[ALERT] parsing [t.cfg:11] : backend 'be': another server named 's1' was already defined at t.cfg:10, please use distinct names"
            ]
        )
    }

    func testDefaultServer_appliesToLaterServersOnly() {
        let list = servers(
            "server a 10.0.0.1:80",
            "default-server weight 7 maxconn 9",
            "server b 10.0.0.1:81",
            "server c 10.0.0.1:82 weight 2 no-backup enabled"
        )
        XCTAssertEqual(list.map(\.options.weight), [1, 7, 2])
        XCTAssertEqual(list.map(\.options.maxconn), [nil, 9, 9])
    }

    func testDefaultServer_inDefaults_isInherited() {
        let config = assertValid(inDefaults("default-server maxconn 50 backup"))
        XCTAssertEqual(config?.backend(named: "be")?.servers.first?.options.maxconn, 50)
        XCTAssertEqual(config?.backend(named: "be")?.servers.first?.options.isBackup, true)
    }

    func testDefaultServer_badOption_isAlert() {
        assertDiagnostics(
            inBackend("default-server weight x"),
            ["[ALERT] parsing [t.cfg:11] : 'default-server' : 'weight' expects an integer from 0 to 256, got 'x'"]
        )
    }

    func testDefaultServer_unsupportedOption_isAlert() {
        assertDiagnostics(
            inBackend("default-server init-addr none"),
            ["[ALERT] parsing [t.cfg:11] : server option 'init-addr' is not supported by sluice"]
        )
    }

    func testDefaultServer_inFrontend_isAlert() {
        assertDiagnostics(
            inFrontend("default-server weight 2"),
            [
                "[ALERT] parsing [t.cfg:11] : 'default-server' not allowed because frontend 'fe' has no backend capability"
            ]
        )
    }
}
