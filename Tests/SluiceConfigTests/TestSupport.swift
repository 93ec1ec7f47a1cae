// SPDX-License-Identifier: Apache-2.0
// Shared helpers for the SluiceConfig tests: a deterministic environment, parse-to-diagnostics shortcuts, and small
// valid configurations with known line numbers that a test extends with the lines under test.

import SluiceConfig
import XCTest

/// A fixed environment: a few variables, host names, users and groups; nothing from the machine.
let testEnvironment = ConfigEnvironment(
    variables: ["PORT": "8443", "HOST": "10.0.0.7", "EMPTY": "", "WORDS": "a b  c", "FD": "3"],
    hosts: [
        "db.internal": .ipv4(address: 0x0A00_0005, port: 0),
        "v6only.internal": .ipv6(address: IPv6Bytes(high: 0x2001_0db8_0000_0000, low: 1), port: 0),
        "localhost": .ipv4(address: 0x7F00_0001, port: 0),
    ],
    users: ["haproxy": 110, "root": 0],
    groups: ["haproxy": 120, "root": 0]
)

/// Parses `text` as file `t.cfg` in `testEnvironment`.
func parse(_ text: String, environment: ConfigEnvironment = testEnvironment) -> ConfigLoadResult {
    ConfigLoader.parse(text: text, fileName: "t.cfg", environment: environment)
}

/// Rendered diagnostics of `text`.
func diagnostics(_ text: String, environment: ConfigEnvironment = testEnvironment) -> [String] {
    parse(text, environment: environment).diagnostics.map(\.rendered)
}

/// Asserts that `text` parses with exactly `expected` rendered diagnostics (in order).
func assertDiagnostics(
    _ text: String,
    _ expected: [String],
    environment: ConfigEnvironment = testEnvironment,
    file: StaticString = #filePath,
    line: UInt = #line
) {
    let result = parse(text, environment: environment)
    XCTAssertEqual(result.diagnostics.map(\.rendered), expected, file: file, line: line)
    let hasAlert = result.diagnostics.contains { $0.severity == .alert }
    XCTAssertEqual(
        result.configuration == nil,
        hasAlert,
        "configuration must be nil exactly when there is an alert",
        file: file,
        line: line
    )
}

/// Asserts that `text` parses without any diagnostic and returns the configuration.
@discardableResult
func assertValid(
    _ text: String,
    environment: ConfigEnvironment = testEnvironment,
    file: StaticString = #filePath,
    line: UInt = #line
) -> Configuration? {
    let result = parse(text, environment: environment)
    XCTAssertEqual(result.diagnostics.map(\.rendered), [], file: file, line: line)
    XCTAssertNotNil(result.configuration, file: file, line: line)
    return result.configuration
}

/// Lines 1-5: a defaults section with mode tcp and the three timeouts HAProxy wants.
let baseDefaults = """
    defaults
        mode tcp
        timeout client 1s
        timeout server 1s
        timeout connect 1s

    """

/// A valid configuration whose frontend `fe` ends at line 10; `lines` follow from line 11.
func inFrontend(_ lines: String...) -> String {
    baseDefaults + """
        backend be
            server s1 127.0.0.1:9000
        frontend fe
            bind :8080
            default_backend be

        """ + lines.map { $0 + "\n" }.joined()
}

/// A valid configuration whose backend `be` ends at line 10; `lines` follow from line 11.
func inBackend(_ lines: String...) -> String {
    baseDefaults + """
        frontend fe
            bind :8080
            default_backend be
        backend be
            server s1 127.0.0.1:9000

        """ + lines.map { $0 + "\n" }.joined()
}

/// A valid configuration starting with `global` at line 1; `lines` follow from line 2.
func inGlobal(_ lines: String...) -> String {
    "global\n" + lines.map { $0 + "\n" }.joined() + baseDefaults + """
        frontend fe
            bind :8080
            default_backend be
        backend be
            server s1 127.0.0.1:9000

        """
}

/// A valid configuration whose defaults section (lines 1-5) continues with `lines` from line 6.
func inDefaults(_ lines: String...) -> String {
    baseDefaults + lines.map { $0 + "\n" }.joined() + """
        frontend fe
            bind :8080
            default_backend be
        backend be
            server s1 127.0.0.1:9000

        """
}

/// The directory holding this file (fixtures are found relative to it, so a clean clone is enough).
let testsDirectory: String = {
    let path = "\(#filePath)"
    return String(path[..<path.lastIndex(of: "/")!])
}()
