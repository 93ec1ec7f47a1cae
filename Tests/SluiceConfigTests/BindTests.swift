// SPDX-License-Identifier: Apache-2.0
// `bind`: every address form, port ranges, lists, options, and refusals of TLS and unknown options.

import SluiceConfig
import XCTest

final class BindTests: XCTestCase {
    private func addresses(_ bind: String, file: StaticString = #filePath, line: UInt = #line) -> [BindAddress]? {
        assertValid(inFrontend("bind \(bind)"), file: file, line: line)?.frontends.first?.binds.last?.addresses
    }

    private let any6 = IPv6Bytes(high: 0, low: 0)
    private let loop6 = IPv6Bytes(high: 0, low: 1)

    func testBind_ipv4_isParsed() {
        XCTAssertEqual(addresses("10.1.2.3:8000"), [.inet(.ipv4(address: 0x0A01_0203, port: 8000))])
    }

    func testBind_starAndEmptyHost_areIPv4Any() {
        XCTAssertEqual(addresses("*:80"), [.inet(.ipv4(address: 0, port: 80))])
        XCTAssertEqual(addresses(":80"), [.inet(.ipv4(address: 0, port: 80))])
    }

    func testBind_ipv6Forms_areParsed() {
        XCTAssertEqual(addresses("[::1]:443"), [.inet(.ipv6(address: loop6, port: 443))])
        XCTAssertEqual(addresses(":::443"), [.inet(.ipv6(address: any6, port: 443))])
        XCTAssertEqual(addresses("ipv6@:443"), [.inet(.ipv6(address: any6, port: 443))])
        XCTAssertEqual(addresses("ipv6@::1:443"), [.inet(.ipv6(address: loop6, port: 443))])
        XCTAssertEqual(addresses("ipv4@:443"), [.inet(.ipv4(address: 0, port: 443))])
    }

    func testBind_portRangeAndList_expand() {
        XCTAssertEqual(
            addresses("127.0.0.1:1000-1002,:2000"),
            [
                .inet(.ipv4(address: 0x7F00_0001, port: 1000)), .inet(.ipv4(address: 0x7F00_0001, port: 1001)),
                .inet(.ipv4(address: 0x7F00_0001, port: 1002)), .inet(.ipv4(address: 0, port: 2000)),
            ]
        )
    }

    func testBind_unixAndFD_areParsed() {
        XCTAssertEqual(addresses("unix@/run/sluice.sock"), [.unix(path: "/run/sluice.sock")])
        XCTAssertEqual(addresses("/run/other.sock"), [.unix(path: "/run/other.sock")])
        XCTAssertEqual(addresses("fd@3"), [.inheritedFD(3)])
    }

    func testBind_fdFromEnvironment_isExpandedQuotedOrNot() {
        XCTAssertEqual(addresses("\"fd@${FD}\""), [.inheritedFD(3)])
        XCTAssertEqual(addresses("fd@${FD}"), [.inheritedFD(3)])
    }

    func testBind_hostName_isResolved() {
        XCTAssertEqual(addresses("localhost:80"), [.inet(.ipv4(address: 0x7F00_0001, port: 80))])
    }

    func testBind_options_areParsed() {
        let bind = assertValid(inFrontend("bind :9000 name main backlog 512 accept-proxy"))?.frontends.first?.binds.last
        XCTAssertEqual(bind?.name, "main")
        XCTAssertEqual(bind?.backlog, 512)
        XCTAssertEqual(bind?.acceptProxy, true)
        XCTAssertEqual(bind?.location, SourceLocation(file: "t.cfg", line: 11))
    }

    func testBind_missingAddress_isAlert() {
        assertDiagnostics(
            inFrontend("bind"),
            ["[ALERT] parsing [t.cfg:11] : 'bind' expects <addr>:<port> as an argument"]
        )
    }

    func testBind_missingPort_isAlert() {
        assertDiagnostics(
            inFrontend("bind 127.0.0.1"),
            ["[ALERT] parsing [t.cfg:11] : 'bind 127.0.0.1' : missing port number in '127.0.0.1'"]
        )
    }

    func testBind_invalidPort_isAlert() {
        assertDiagnostics(
            inFrontend("bind :99999"),
            ["[ALERT] parsing [t.cfg:11] : 'bind :99999' : invalid port '99999'"]
        )
    }

    func testBind_reversedRange_isAlert() {
        assertDiagnostics(
            inFrontend("bind :90-80"),
            ["[ALERT] parsing [t.cfg:11] : 'bind :90-80' : invalid port range '90-80'"]
        )
    }

    func testBind_unresolvableHost_isAlert() {
        assertDiagnostics(
            inFrontend("bind nowhere.invalid:80"),
            ["[ALERT] parsing [t.cfg:11] : 'bind nowhere.invalid:80' : could not resolve address 'nowhere.invalid'"]
        )
    }

    func testBind_badFD_isAlert() {
        assertDiagnostics(
            inFrontend("bind fd@x"),
            ["[ALERT] parsing [t.cfg:11] : 'bind fd@x' : invalid file descriptor 'x' in 'fd@x'"]
        )
    }

    func testBind_unsupportedPrefix_isAlert() {
        assertDiagnostics(
            inFrontend("bind abns@sock"),
            ["[ALERT] parsing [t.cfg:11] : 'bind abns@sock' : address prefix 'abns@' is not supported by sluice"]
        )
    }

    func testBind_unknownPrefix_isAlert() {
        assertDiagnostics(
            inFrontend("bind foo@:80"),
            ["[ALERT] parsing [t.cfg:11] : 'bind foo@:80' : unknown address family 'foo@' in 'foo@:80'"]
        )
    }

    func testBind_emptyListItem_isAlert() {
        assertDiagnostics(
            inFrontend("bind :80,"),
            ["[ALERT] parsing [t.cfg:11] : 'bind :80,' : empty address in the address list"]
        )
    }

    func testBind_unsupportedTLSOptions_eachNotSupported() {
        assertDiagnostics(
            inFrontend("bind :443 ssl crt-list /etc/list strict-sni npn h2 name tls"),
            [
                "[ALERT] parsing [t.cfg:11] : bind option 'crt-list' is not supported by sluice",
                "[ALERT] parsing [t.cfg:11] : bind option 'strict-sni' is not supported by sluice",
                "[ALERT] parsing [t.cfg:11] : bind option 'npn' is not supported by sluice",
            ]
        )
    }

    func testBind_unknownOption_isAlertWithSuggestion() {
        assertDiagnostics(
            inFrontend("bind :80 acept-proxy"),
            ["[ALERT] parsing [t.cfg:11] : 'bind :80' : unknown option 'acept-proxy'; did you mean 'accept-proxy'?"]
        )
    }

    func testBind_optionMissingValue_isAlert() {
        assertDiagnostics(
            inFrontend("bind :80 name"),
            ["[ALERT] parsing [t.cfg:11] : 'bind :80' : 'name' expects an argument"]
        )
    }

    func testBind_badBacklog_isAlert() {
        assertDiagnostics(
            inFrontend("bind :80 backlog -5"),
            ["[ALERT] parsing [t.cfg:11] : 'bind :80' : 'backlog' expects a positive integer, got '-5'"]
        )
    }
}
