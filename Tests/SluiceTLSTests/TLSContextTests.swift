// SPDX-License-Identifier: Apache-2.0
// TLSContext: certificate selection by SNI (exact, wildcard, first), ALPN, directories of certificates, and
// every configuration error the proxy reports at load time, with its exact message.
import Foundation
import SluiceTLS
import XCTest

final class TLSContextTests: TLSTestCase {
    // MARK: SNI

    /// The subject of the certificate a client sending `name` in SNI gets (nil: no SNI).
    private func presentedSubject(
        _ server: TLSContext,
        serverName: String?,
        file: StaticString = #filePath,
        line: UInt = #line
    )
        throws -> String?
    {
        var options = TLSContextOptions()
        options.serverName = serverName
        let client = try TLSContext.client(options)
        let (s, c) = try driver.connect(server: server, client: client)
        handshake(s, c, file: file, line: line)
        XCTAssertEqual(s.connection.serverNameIndication, serverName, file: file, line: line)
        defer {
            driver.close(s)
            driver.close(c)
        }
        return c.connection.peerSubject
    }

    func testSNI_exactThenWildcardThenFirst() throws {
        // The wildcard file comes before the exact one: exact must still win for a.wild.example.
        let server = try TLSContext.server(Fixtures.serverOptions("server.pem", "wild.pem", "a.pem"))
        XCTAssertEqual(server.certificateCount, 3)
        XCTAssertEqual(try presentedSubject(server, serverName: "a.example"), "/CN=a.example")
        XCTAssertEqual(
            try presentedSubject(server, serverName: "a.wild.example"),
            "/CN=a.example",
            "exact beats wildcard"
        )
        XCTAssertEqual(try presentedSubject(server, serverName: "b.wild.example"), "/CN=*.wild.example")
        XCTAssertEqual(
            try presentedSubject(server, serverName: "B.Wild.Example"),
            "/CN=*.wild.example",
            "case-insensitive"
        )
        XCTAssertEqual(try presentedSubject(server, serverName: "x.b.wild.example"), "/CN=localhost", "one label only")
        XCTAssertEqual(try presentedSubject(server, serverName: "wild.example"), "/CN=localhost")
        XCTAssertEqual(
            try presentedSubject(server, serverName: "unknown.example"),
            "/CN=localhost",
            "first certificate"
        )
        XCTAssertEqual(try presentedSubject(server, serverName: nil), "/CN=localhost", "no SNI: first certificate")
    }

    func testSNI_switchedCertificate_keepsTheFirstContextsVerification() throws {
        var options = Fixtures.serverOptions("server.pem", "a.pem")
        options.caFile = Fixtures.path("ca.pem")
        options.verify = .required
        let server = try TLSContext.server(options)
        var clientOptions = Fixtures.verifyingClientOptions(serverName: "a.example")
        clientOptions.certificateFiles = [Fixtures.path("client.pem")]
        let client = try TLSContext.client(clientOptions)
        let (s, c) = try driver.connect(server: server, client: client)
        handshake(s, c)
        XCTAssertEqual(c.connection.peerSubject, "/CN=a.example")
        XCTAssertEqual(c.connection.verifyResult, 0)
        XCTAssertEqual(s.connection.peerSubject, "/CN=client")
        exchangeAndClose(s, c)
    }

    func testCertificateDirectory_expandedInNameOrder_sideFilesSkipped() throws {
        let directory = NSTemporaryDirectory() + "sluice-tls-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (source, name) in [("a.pem", "2-a.pem"), ("server.pem", "1-server.pem"), ("mismatch.pem", ".hidden.pem")] {
            try FileManager.default.copyItem(atPath: Fixtures.path(source), toPath: directory + "/" + name)
        }
        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: directory + "/1-server.key"))
        var options = TLSContextOptions()
        options.certificateFiles = [directory]
        let server = try TLSContext.server(options)
        XCTAssertEqual(server.certificateCount, 2)
        XCTAssertEqual(try presentedSubject(server, serverName: nil), "/CN=localhost", "1-server.pem comes first")
        XCTAssertEqual(try presentedSubject(server, serverName: "a.example"), "/CN=a.example")
    }

    // MARK: ALPN

    private func negotiatedALPN(server serverList: [String], client clientList: [String]) throws -> (String?, String?) {
        let server = try TLSContext.server(Fixtures.serverOptions("server.pem", alpn: serverList))
        var options = TLSContextOptions()
        options.alpn = clientList
        let client = try TLSContext.client(options)
        let (s, c) = try driver.connect(server: server, client: client)
        handshake(s, c)
        defer {
            driver.close(s)
            driver.close(c)
        }
        return (s.connection.alpnProtocol, c.connection.alpnProtocol)
    }

    func testALPN_negotiatedByServerPreference() throws {
        let common = try negotiatedALPN(server: ["h2", "http/1.1"], client: ["http/1.1"])
        XCTAssertEqual(common.0, "http/1.1")
        XCTAssertEqual(common.1, "http/1.1")
        let preferred = try negotiatedALPN(server: ["h2", "http/1.1"], client: ["http/1.1", "h2"])
        XCTAssertEqual(preferred.0, "h2")
        XCTAssertEqual(preferred.1, "h2")
    }

    func testALPN_noOverlap_orNotOffered_continuesWithoutALPN() throws {
        let disjoint = try negotiatedALPN(server: ["h2"], client: ["spdy/3"])
        XCTAssertNil(disjoint.0)
        XCTAssertNil(disjoint.1)
        let none = try negotiatedALPN(server: ["h2", "http/1.1"], client: [])
        XCTAssertNil(none.0)
    }

    // MARK: configuration errors

    private func serverError(_ configure: (inout TLSContextOptions) -> Void) -> String {
        var options = Fixtures.serverOptions("server.pem")
        configure(&options)
        do {
            _ = try TLSContext.server(options)
            return "no error"
        } catch {
            return error.message
        }
    }

    func testConfigError_missingCertificateFile() {
        let missing = Fixtures.path("missing.pem")
        XCTAssertEqual(
            serverError { $0.certificateFiles = [missing] },
            "unable to read certificate file '\(missing)': No such file or directory"
        )
    }

    func testConfigError_keyDoesNotMatchTheCertificate() {
        let path = Fixtures.path("mismatch.pem")
        XCTAssertEqual(
            serverError { $0.certificateFiles = [path] },
            "the private key in '\(path)' does not match its certificate:"
                + " error:05800074:x509 certificate routines::key values mismatch"
        )
    }

    func testConfigError_pemWithoutKey() {
        let path = Fixtures.path("ca.pem")
        let message = serverError { $0.certificateFiles = [path] }
        XCTAssertTrue(
            message.hasPrefix("no unencrypted private key in '\(path)' (expected: certificate, chain, key)"),
            message
        )
    }

    func testConfigError_fileWithoutCertificate() throws {
        let path = NSTemporaryDirectory() + "sluice-tls-junk-\(getpid()).pem"
        try Data("junk\n".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(
            serverError { $0.certificateFiles = [path] },
            "no certificate found in '\(path)': error:0480006C:PEM routines::no start line;"
                + " error:0A080009:SSL routines::PEM lib"
        )
        XCTAssertEqual(
            serverError {
                $0.caFile = path
                $0.verify = .optional
            },
            "invalid CA file '\(path)': error:05800088:x509 certificate routines::no certificate or crl found"
        )
    }

    func testConfigError_missingCAFile_andVerifyWithoutCAFile() {
        let missing = Fixtures.path("missing-ca.pem")
        XCTAssertEqual(
            serverError {
                $0.caFile = missing
                $0.verify = .required
            },
            "unable to read CA file '\(missing)': No such file or directory"
        )
        XCTAssertEqual(
            serverError { $0.verify = .required },
            "'verify required' needs a CA file ('ca-file') to check client certificates"
        )
        var options = TLSContextOptions()
        options.verify = .required
        XCTAssertThrowsError(try TLSContext.client(options)) { error in
            XCTAssertEqual(
                (error as? TLSConfigError)?.message,
                "'verify required' needs a CA file ('ca-file') to check the server's certificate"
            )
        }
    }

    func testConfigError_badCipherStrings() {
        XCTAssertEqual(
            serverError { $0.ciphers = "NOT-A-CIPHER" },
            "ciphers 'NOT-A-CIPHER': no cipher OpenSSL accepts: error:0A0000B9:SSL routines::no cipher match"
        )
        XCTAssertEqual(
            serverError { $0.ciphersuites = "TLS_NOPE" },
            "ciphersuites 'TLS_NOPE': not a valid TLS 1.3 suite list: error:0A0000B9:SSL routines::no cipher match"
        )
        XCTAssertTrue(serverError { $0.curves = "P-999" }.hasPrefix("curves 'P-999': not a valid group list"))
    }

    func testConfigError_versionsAlpnAndCertificateCount() {
        XCTAssertEqual(
            serverError {
                $0.minVersion = .tls1_3
                $0.maxVersion = .tls1_2
            },
            "ssl-min-ver TLSv1.3 is above ssl-max-ver TLSv1.2"
        )
        XCTAssertEqual(serverError { $0.alpn = ["h2", ""] }, "ALPN protocol name '' must be 1 to 255 bytes long")
        XCTAssertEqual(
            serverError { $0.certificateFiles = [] },
            "no certificate: a TLS listener needs at least one 'crt' file"
        )
        var options = TLSContextOptions()
        options.certificateFiles = [Fixtures.path("client.pem"), Fixtures.path("server.pem")]
        XCTAssertThrowsError(try TLSContext.client(options)) { error in
            XCTAssertEqual((error as? TLSConfigError)?.message, "a TLS client presents one certificate, 2 given")
        }
    }

    func testDefaults_secureSettings() throws {
        let defaults = TLSContextOptions()
        XCTAssertNil(defaults.minVersion, "nil means TLS 1.2")
        XCTAssertTrue(defaults.sessionTickets)
        XCTAssertEqual(defaults.verify, .none)
        for cipher in TLSContextOptions.defaultCiphers.split(separator: ":") {
            XCTAssertTrue(cipher.hasPrefix("ECDHE-"), "\(cipher): forward secrecy only")
            XCTAssertTrue(cipher.contains("GCM") || cipher.contains("CHACHA20-POLY1305"), "\(cipher): AEAD only")
        }
    }
}
