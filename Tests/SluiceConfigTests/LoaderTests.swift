// SPDX-License-Identifier: Apache-2.0
// ConfigLoader: several files concatenated, directories in name order, unreadable paths, rendering, and that every
// error is reported in file order.

import Foundation
import SluiceConfig
import XCTest

final class LoaderTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "sluice-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testLoad_twoFiles_backendFromFirstFileAndDefaultsCarryOver() throws {
        let first = try write("a.cfg", baseDefaults + "backend be\n  server s 127.0.0.1:1\n")
        let second = try write("b.cfg", "frontend fe\n  bind :80\n  default_backend be\n")
        let result = ConfigLoader.load(paths: [first, second], environment: testEnvironment)
        XCTAssertEqual(result.diagnostics.map(\.rendered), [])
        XCTAssertEqual(result.configuration?.proxies.map(\.name), ["be", "fe"])
        XCTAssertEqual(result.configuration?.frontends.first?.timeouts.client, 1000)
        XCTAssertEqual(result.configuration?.frontends.first?.location, SourceLocation(file: second, line: 1))
    }

    func testLoad_sectionContinuesIntoNextFile() throws {
        let first = try write("a.cfg", "global\n  maxconn 5\n")
        let second = try write("b.cfg", "  daemon\n" + inBackend())
        let result = ConfigLoader.load(paths: [first, second], environment: testEnvironment)
        XCTAssertEqual(result.diagnostics.map(\.rendered), [])
        XCTAssertEqual(result.configuration?.global.daemon, true)
    }

    func testLoad_directory_readsCfgFilesInNameOrder() throws {
        let sub = directory + "/conf.d"
        try FileManager.default.createDirectory(atPath: sub + "/nested", withIntermediateDirectories: true)
        try "backend be\n  server s 127.0.0.1:1\n".write(
            toFile: sub + "/20-backend.cfg",
            atomically: true,
            encoding: .utf8
        )
        try "frontend fe\n  bind :80\n  default_backend be\n".write(
            toFile: sub + "/30-frontend.cfg",
            atomically: true,
            encoding: .utf8
        )
        try baseDefaults.write(toFile: sub + "/10-defaults.cfg", atomically: true, encoding: .utf8)
        try "garbage that is not config\n".write(toFile: sub + "/README.txt", atomically: true, encoding: .utf8)
        try "frontend nested\n".write(toFile: sub + "/nested/40.cfg", atomically: true, encoding: .utf8)
        let result = ConfigLoader.load(paths: [sub], environment: testEnvironment)
        XCTAssertEqual(result.diagnostics.map(\.rendered), [])
        XCTAssertEqual(result.configuration?.proxies.map(\.name), ["be", "fe"])
        XCTAssertEqual(result.configuration?.proxies.first?.location.file, sub + "/20-backend.cfg")
    }

    func testLoad_emptyDirectory_isWarning() throws {
        let result = ConfigLoader.load(paths: [directory], environment: testEnvironment)
        XCTAssertEqual(
            result.diagnostics.map(\.rendered),
            ["[WARNING] no '*.cfg' file in configuration directory '\(directory)'"]
        )
    }

    func testLoad_missingFile_isAlertWithoutLocation() {
        let path = directory + "/missing.cfg"
        let result = ConfigLoader.load(paths: [path], environment: testEnvironment)
        XCTAssertNil(result.configuration)
        XCTAssertEqual(
            result.diagnostics,
            [
                Diagnostic(
                    severity: .alert,
                    location: nil,
                    message: "Could not open configuration file \(path) : No such file or directory"
                )
            ]
        )
        XCTAssertEqual(
            result.diagnostics.map(\.rendered),
            ["[ALERT] Could not open configuration file \(path) : No such file or directory"]
        )
    }

    func testLoad_missingFileBetweenFiles_keepsOrder() throws {
        let first = try write("a.cfg", "maxconn 1\n")
        let missing = directory + "/nope.cfg"
        let last = try write("c.cfg", "bogus 1\n")
        let result = ConfigLoader.load(paths: [first, missing, last], environment: testEnvironment)
        XCTAssertEqual(
            result.diagnostics.map(\.rendered),
            [
                "[ALERT] parsing [\(first):1] : 'maxconn' found out of section (it must follow a section keyword)",
                "[ALERT] Could not open configuration file \(missing) : No such file or directory",
                "[ALERT] parsing [\(last):1] : unknown keyword 'bogus' out of section",
            ]
        )
    }

    func testParse_threeErrors_yieldThreeAlerts() {
        let text = inFrontend("maxconn x", "bind :80 foo", "timeout client 5parsecs")
        let result = parse(text)
        XCTAssertNil(result.configuration)
        XCTAssertEqual(
            result.diagnostics.map(\.rendered),
            [
                "[ALERT] parsing [t.cfg:11] : 'maxconn' expects an integer from 1 to 2147483647, got 'x'",
                "[ALERT] parsing [t.cfg:12] : 'bind :80' : unknown option 'foo'",
                "[ALERT] parsing [t.cfg:13] : 'timeout client': invalid time unit 'parsecs' in '5parsecs' (expected us, ms, s, m, h or d)",
            ]
        )
    }

    func testParse_secondPassRunsAfterFirstPassErrors_inFileOrder() {
        let text =
            baseDefaults + """
                frontend fe
                    bind :80
                    default_backend nowhere
                    maxconn lots
                backend be
                    server s 127.0.0.1:1
                    retries many

                """
        assertDiagnostics(
            text,
            [
                "[ALERT] parsing [t.cfg:8] : frontend 'fe': unable to find required default_backend: 'nowhere'",
                "[ALERT] parsing [t.cfg:9] : 'maxconn' expects an integer from 1 to 2147483647, got 'lots'",
                "[WARNING] parsing [t.cfg:10] : backend 'be' is not used by any frontend",
                "[ALERT] parsing [t.cfg:12] : 'retries' expects an integer from 0 to 1000, got 'many'",
            ]
        )
    }

    func testParse_garbageBytes_neverCrash() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab{}!|#\"'\\$:@,.-/ \t\n\r0123456789".utf8) + [0, 0xFF, 0xC3]
        let keywords = [
            "global\n", "frontend f\n", "backend b\n", "bind ", "server s ", "acl a ", "use_backend b if ",
            "log ", "timeout client ", "defaults\n", "listen l\n", "tcp-request content accept if ",
        ]
        for _ in 0..<300 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0..<400, using: &generator) {
                if Int.random(in: 0..<8, using: &generator) == 0 {
                    bytes += Array(keywords.randomElement(using: &generator)!.utf8)
                } else {
                    bytes.append(alphabet.randomElement(using: &generator)!)
                }
            }
            let result = parse(String(decoding: bytes, as: UTF8.self))
            for diagnostic in result.diagnostics {
                XCTAssertFalse(diagnostic.message.contains("\n"), diagnostic.rendered)
            }
        }
    }

    func testDiagnostic_rendering_withAndWithoutLocation() {
        let located = Diagnostic(
            severity: .warning,
            location: SourceLocation(file: "/etc/x.cfg", line: 3),
            message: "m"
        )
        XCTAssertEqual(located.rendered, "[WARNING] parsing [/etc/x.cfg:3] : m")
        XCTAssertEqual(Diagnostic(severity: .alert, location: nil, message: "boom").rendered, "[ALERT] boom")
    }

    func testDiagnostics_mergingLaterOnes_placesEachInFileOrder() {
        func alert(_ file: String?, _ line: Int, _ m: String) -> Diagnostic {
            Diagnostic(severity: .alert, location: file.map { SourceLocation(file: $0, line: line) }, message: m)
        }
        let parsed = [alert("a.cfg", 3, "a3"), alert("a.cfg", 9, "a9"), alert("b.cfg", 2, "b2")]
        let later = [alert("a.cfg", 5, "a5"), alert("a.cfg", 12, "a12"), alert("c.cfg", 1, "c1"), alert(nil, 0, "x")]
        XCTAssertEqual(parsed.merging(later).map(\.message), ["a3", "a5", "a9", "a12", "b2", "c1", "x"])
        XCTAssertEqual(parsed.merging([]), parsed)
    }

    func testParse_withAlerts_stillYieldsThePartialModel() {
        let r = ConfigLoader.parse(text: "frontend fe\n    bogus\n    bind 127.0.0.1:1 ssl crt /x.pem\n", fileName: "p.cfg")
        XCTAssertNil(r.configuration)
        XCTAssertEqual(r.partialConfiguration?.proxies.first?.name, "fe")
    }

    func testEnvironment_process_readsRealEnvironment() {
        setenv("SLUICE_TEST_PORT", "9123", 1)
        defer { unsetenv("SLUICE_TEST_PORT") }
        let result = ConfigLoader.parse(
            text: inFrontend("bind \"127.0.0.1:${SLUICE_TEST_PORT}\""),
            fileName: "t.cfg",
            environment: .process
        )
        XCTAssertEqual(
            result.configuration?.frontends.first?.binds.last?.addresses,
            [.inet(.ipv4(address: 0x7F00_0001, port: 9123))]
        )
    }

    func testEnvironment_process_resolvesLocalhostAndRoot() {
        XCTAssertEqual(ConfigEnvironment.process.resolveHost("localhost"), .ipv4(address: 0x7F00_0001, port: 0))
        XCTAssertNil(ConfigEnvironment.process.resolveHost("no-such-host.invalid"))
        XCTAssertEqual(ConfigEnvironment.process.userID("root"), 0)
        XCTAssertEqual(ConfigEnvironment.process.groupID("root"), 0)
        XCTAssertNil(ConfigEnvironment.process.userID("no-such-user-sluice"))
    }
}
