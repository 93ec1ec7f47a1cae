// SPDX-License-Identifier: Apache-2.0
// Runs the parser over the 40 real-world HAProxy configurations in Fixtures/corpus (copied from
// shared/corpus/haproxy-configs with their SOURCES.md): no crash, every alert one precise line that quotes what it
// refuses, and the full output pinned in Fixtures/corpus-expected.txt (regenerate with SLUICE_UPDATE_GOLDEN=1).

import Foundation
import SluiceConfig
import XCTest

final class CorpusTests: XCTestCase {
    /// The stubbed deployment environment of the corpus checker (tools/check_env_stubbed.py): its variables, every
    /// host resolvable (like `-dr`), every user and group present, every file the configurations name present (a
    /// path ending in `/` is a directory; `*.http` files hold a small HTTP response, other files are empty).
    static let corpusEnvironment = ConfigEnvironment(
        variable: { name in
            [
                "HAPROXY_MAXCONN": "2000", "HAPROXY_CONTINENT": "EU", "MQTT_PORT": "1883", "MQTTS_PORT": "8883",
                "MQTT_WS_PORT": "8084", "MQTT_WSS_PORT": "8085", "HTTP_PORT": "8080", "HTTPS_PORT": "8443",
                "DOMAIN_NAME": "example.com", "FORCE_HTTPS_REDIRECT": "false", "HOME": "/home/stub",
            ][name]
        },
        resolveHost: { _ in .ipv4(address: 0xC000_020A, port: 0) },
        userID: { _ in 1000 },
        groupID: { _ in 1000 },
        fileKind: { path in .success(path.hasSuffix("/") ? .directory : .file) },
        readFile: { path in
            .success(path.hasSuffix(".http") ? Array("HTTP/1.0 503 Service Unavailable\r\n\r\nstub\n".utf8) : [])
        }
    )

    static var corpusDirectory: String { testsDirectory + "/Fixtures/corpus" }

    static func corpusFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: corpusDirectory).filter { $0.hasSuffix(".cfg") }.sorted()
    }

    /// Every diagnostic of every corpus file, one per line, files in name order.
    static func renderCorpus() throws -> (text: String, results: [(String, ConfigLoadResult)]) {
        var out = ""
        var results: [(String, ConfigLoadResult)] = []
        for name in try corpusFiles() {
            let result = ConfigLoader.load(paths: [corpusDirectory + "/" + name], environment: corpusEnvironment)
            results.append((name, result))
            out += "== \(name): \(result.configuration == nil ? "refused" : "accepted")\n"
            for diagnostic in result.diagnostics {
                out += diagnostic.rendered.replacingOccurrences(of: corpusDirectory + "/", with: "") + "\n"
            }
        }
        return (out, results)
    }

    func testCorpus_everyFile_hasFortyFiles() throws {
        XCTAssertEqual(try Self.corpusFiles().count, 40)
    }

    func testCorpus_everyAlert_isOnePreciseLine() throws {
        let (_, results) = try Self.renderCorpus()
        for (name, result) in results {
            for diagnostic in result.diagnostics {
                XCTAssertNotNil(diagnostic.location, "\(name): \(diagnostic.rendered)")
                XCTAssertFalse(diagnostic.message.contains("\n"), "\(name): \(diagnostic.rendered)")
                // Precise: the message quotes what it is about.
                XCTAssertTrue(diagnostic.message.contains("'"), "\(name): vague message \(diagnostic.rendered)")
            }
        }
    }

    func testCorpus_mangledFiles_neverCrash() throws {
        // Every line cut in half, then every line with its words reversed: configurations nobody wrote, which
        // must still give one-line diagnostics and no crash.
        for name in try Self.corpusFiles() {
            let text = try String(contentsOfFile: Self.corpusDirectory + "/" + name, encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let halves = lines.map { $0.prefix($0.count / 2) }.joined(separator: "\n")
            let reversed = lines.map { $0.split(separator: " ").reversed().joined(separator: " ") }.joined(
                separator: "\n"
            )
            for variant in [halves, reversed] {
                let result = ConfigLoader.parse(text: variant, fileName: name, environment: Self.corpusEnvironment)
                for diagnostic in result.diagnostics {
                    XCTAssertFalse(diagnostic.message.contains("\n"), "\(name): \(diagnostic.rendered)")
                }
            }
        }
    }

    func testCorpus_output_matchesGoldenFile() throws {
        let (text, _) = try Self.renderCorpus()
        let golden = testsDirectory + "/Fixtures/corpus-expected.txt"
        if ProcessInfo.processInfo.environment["SLUICE_UPDATE_GOLDEN"] != nil {
            try text.write(toFile: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: golden, encoding: .utf8)
        XCTAssertEqual(text, expected, "corpus diagnostics changed; rerun with SLUICE_UPDATE_GOLDEN=1 if intended")
    }
}
