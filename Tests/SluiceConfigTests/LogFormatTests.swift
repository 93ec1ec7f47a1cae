// SPDX-License-Identifier: Apache-2.0
// Log-format strings, through `http-request set-header` values: literals, `%%`, samples with converters, the
// supported variables, and the refusal of other variables, flags and malformed `%` sequences.

import SluiceConfig
import XCTest

final class LogFormatTests: XCTestCase {
    /// The value of `http-request set-header X <text>` (the text is one word; quote it in `text` if needed).
    private func format(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> LogFormat? {
        let config = assertValid(inHTTPFrontend("http-request set-header X \(text)"), file: file, line: line)
        guard case .header(.set(_, let value)) = config?.frontends.first?.httpRequestRules.first?.action else {
            return nil
        }
        return value
    }

    func testLogFormat_literalOnly_isConstant() {
        let value = format("\"plain text\"")
        XCTAssertEqual(value?.parts, [.literal("plain text")])
        XCTAssertEqual(value?.text, "plain text")
        XCTAssertEqual(value?.isConstant, true)
    }

    func testLogFormat_percentPercent_isALiteralPercent() {
        XCTAssertEqual(format("100%%")?.parts, [.literal("100%")])
    }

    func testLogFormat_samplesAndVariables_areParts() {
        let value = format("%ci:%cp->%[dst]:%[dst_port],%[req.hdr(host),lower]/%HM%HP%HQ")
        XCTAssertEqual(
            value?.parts,
            [
                .variable(.clientIP), .literal(":"), .variable(.clientPort), .literal("->"),
                .sample(SampleExpression(fetch: SampleFetch(name: "dst"))), .literal(":"),
                .sample(SampleExpression(fetch: SampleFetch(name: "dst_port"))), .literal(","),
                .sample(
                    SampleExpression(fetch: SampleFetch(name: "req.hdr", argument: "host"), converters: [.lower])
                ),
                .literal("/"), .variable(.method), .variable(.path), .variable(.query),
            ]
        )
        XCTAssertEqual(value?.isConstant, false)
    }

    func testLogFormat_everySupportedVariable() {
        let value = format("%ci%cp%fi%fp%f%b%H%pid%HM%HP%HQ%HU%HV")
        XCTAssertEqual(
            value?.parts,
            [
                .variable(.clientIP), .variable(.clientPort), .variable(.frontendIP), .variable(.frontendPort),
                .variable(.frontendName), .variable(.backendName), .variable(.hostname), .variable(.pid),
                .variable(.method), .variable(.path), .variable(.query), .variable(.uri), .variable(.httpVersion),
            ]
        )
    }

    func testLogFormat_tlsSample_isAllowed() {
        XCTAssertEqual(
            format("%[ssl_fc_sni,upper]")?.parts,
            [.sample(SampleExpression(fetch: SampleFetch(name: "ssl_fc_sni"), converters: [.upper]))]
        )
    }

    func testLogFormat_errors_areAlerts() {
        assertDiagnostics(
            inHTTPFrontend(
                "http-request set-header X %Tq",
                "http-request set-header X %zz",
                "http-request set-header X %{+Q}r",
                "http-request set-header X %[src",
                "http-request set-header X %[var(txn.x)]",
                "http-request set-header X 100%",
                "http-request set-header X %[]",
                "http-request set-header X %1",
                "http-request set-header X %[path_beg]"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : 'http-request set-header': log-format variable '%Tq' is not supported by sluice",
                "[ALERT] parsing [t.cfg:12] : 'http-request set-header': unknown log-format variable '%zz'; use '%%' for a literal '%'",
                "[ALERT] parsing [t.cfg:13] : 'http-request set-header': log-format flags '%{+Q}' are not supported by sluice",
                "[ALERT] parsing [t.cfg:14] : 'http-request set-header': missing ']' after '%[' in '%[src'",
                "[ALERT] parsing [t.cfg:15] : 'http-request set-header': in '%[var(txn.x)]': fetch 'var' is not supported by sluice",
                "[ALERT] parsing [t.cfg:16] : 'http-request set-header': '%' at the end of '100%'; use '%%' for a literal '%'",
                "[ALERT] parsing [t.cfg:17] : 'http-request set-header': empty sample expression '%[]' in '%[]'",
                "[ALERT] parsing [t.cfg:18] : 'http-request set-header': unexpected '%1' in '%1'; use '%%' for a literal '%'",
                "[ALERT] parsing [t.cfg:19] : 'http-request set-header': in '%[path_beg]': 'path_beg' is an ACL keyword, not a sample fetch (use 'path')",
            ]
        )
    }
}
