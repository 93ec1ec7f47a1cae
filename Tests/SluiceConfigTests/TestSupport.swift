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
    groups: ["haproxy": 120, "root": 0],
    files: [
        "/etc/sluice/503.http": "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\n\r\n<h1>busy</h1>\n",
        "/etc/sluice/lf.http": "HTTP/1.1 403 Forbidden\nContent-Length: 0\n\n",
        "/etc/sluice/bad.http": "<h1>not a response</h1>\n",
        "/etc/sluice/body.html": "<p>hi</p>\n",
        "/etc/sluice/empty": "",
        "/etc/sluice/blocked.lst": "# blocked networks\n10.1.0.0/16\n\n  192.168.7.7  \n",
        "/etc/sluice/paths.lst": "/admin\n/private\n",
        "/etc/sluice/bad-ips.lst": "10.0.0.1\nnot-an-ip\n",
        "/etc/ssl/site.pem": "PEM",
        "/etc/ssl/other.pem": "PEM",
        "/etc/ssl/ca.pem": "PEM",
        "/etc/ssl/private/site.pem": "PEM",
        "/etc/ssl/certs/ca.pem": "PEM",
        "/etc/ssl/client.pem": "PEM",
    ],
    directories: ["/etc/ssl/sites", "/etc/ssl/private", "/etc/ssl/certs"]
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

/// Lines 1-5: a defaults section with mode http and the three timeouts HAProxy wants.
let httpDefaults = """
    defaults
        mode http
        timeout client 1s
        timeout server 1s
        timeout connect 1s

    """

/// A valid mode http configuration whose frontend `fe` ends at line 10; `lines` follow from line 11.
func inHTTPFrontend(_ lines: String...) -> String {
    httpDefaults + """
        backend be
            server s1 127.0.0.1:9000
        frontend fe
            bind :8080
            default_backend be

        """ + lines.map { $0 + "\n" }.joined()
}

/// A valid mode http configuration whose backend `be` ends at line 10; `lines` follow from line 11.
func inHTTPBackend(_ lines: String...) -> String {
    httpDefaults + """
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
