// SPDX-License-Identifier: Apache-2.0
// Certificate verification both ways (server certificates checked by clients, client certificates checked by
// servers) and the protocol floor: failures must name the reason, successes report verifyResult 0.
import SluiceTLS
import XCTest

final class TLSVerificationTests: TLSTestCase {
    /// Runs until each side either failed or finished reading; the failing side's message is returned.
    private func runUntilBothEnd(_ s: Peer, _ c: Peer, file: StaticString = #filePath, line: UInt = #line) {
        driver.run(
            until: { (s.isFailed || s.readEnd != nil) && (c.isFailed || c.readEnd != nil) },
            file: file,
            line: line
        )
    }

    private func failureMessage(_ peer: Peer) -> String {
        if let failure = peer.handshakeFailure { return failure.message }
        if case .failed(let error) = peer.readEnd { return error.message }
        return "no failure"
    }

    func testServerCertificateFromAnotherCA_clientRefusesNamingTheVerifyError() throws {
        let server = try TLSContext.server(Fixtures.serverOptions("foreign.pem"))
        let client = try TLSContext.client(Fixtures.verifyingClientOptions())
        let (s, c) = try driver.connect(server: server, client: client)
        runUntilBothEnd(s, c)
        XCTAssertEqual(
            c.handshakeFailure?.message,
            "SSL_do_handshake: error:0A000086:SSL routines::certificate verify failed"
                + " (verify error 20: unable to get local issuer certificate)"
        )
        XCTAssertEqual(c.connection.verifyResult, 20)
        XCTAssertTrue(failureMessage(s).contains("alert unknown ca"), failureMessage(s))
    }

    func testExpiredServerCertificate_clientRefuses() throws {
        let server = try TLSContext.server(Fixtures.serverOptions("expired.pem"))
        let client = try TLSContext.client(Fixtures.verifyingClientOptions())
        let (s, c) = try driver.connect(server: server, client: client)
        runUntilBothEnd(s, c)
        XCTAssertTrue(
            c.handshakeFailure?.message.hasSuffix("(verify error 10: certificate has expired)") ?? false,
            failureMessage(c)
        )
        XCTAssertTrue(s.isFailed)
    }

    func testServerNameMismatch_clientRefuses() throws {
        let server = try TLSContext.server(Fixtures.serverOptions("server.pem"))
        let client = try TLSContext.client(Fixtures.verifyingClientOptions(serverName: "b.example"))
        let (s, c) = try driver.connect(server: server, client: client)
        runUntilBothEnd(s, c)
        XCTAssertTrue(
            c.handshakeFailure?.message.hasSuffix("(verify error 62: hostname mismatch)") ?? false,
            failureMessage(c)
        )
    }

    func testServerIPAddress_checkedAgainstIPSubjectAltName() throws {
        let server = try TLSContext.server(Fixtures.serverOptions("server.pem"))
        let client = try TLSContext.client(Fixtures.verifyingClientOptions(serverName: "127.0.0.1"))
        let (s, c) = try driver.connect(server: server, client: client)
        handshake(s, c)
        XCTAssertEqual(c.connection.verifyResult, 0)
        XCTAssertNil(s.connection.serverNameIndication, "an IP literal is never sent in SNI")
        exchangeAndClose(s, c)
    }

    func testVerifyNone_wrongCAStillConnects_andRecordsTheResult() throws {
        let server = try TLSContext.server(Fixtures.serverOptions("foreign.pem"))
        var options = Fixtures.verifyingClientOptions()
        options.verify = .none
        let client = try TLSContext.client(options)
        let (s, c) = try driver.connect(server: server, client: client)
        handshake(s, c)
        XCTAssertEqual(c.connection.verifyResult, 20)
        exchangeAndClose(s, c)
    }

    private func clientCertificateServer(_ verify: TLSVerify) throws -> TLSContext {
        var options = Fixtures.serverOptions("server.pem")
        options.caFile = Fixtures.path("ca.pem")
        options.verify = verify
        return try TLSContext.server(options)
    }

    func testClientCertificateRequired_noCertificate_serverRefuses() throws {
        let server = try clientCertificateServer(.required)
        let client = try TLSContext.client(Fixtures.verifyingClientOptions())
        let (s, c) = try driver.connect(server: server, client: client)
        runUntilBothEnd(s, c)
        XCTAssertEqual(
            s.handshakeFailure?.message,
            "SSL_do_handshake: error:0A0000C7:SSL routines::peer did not return a certificate"
        )
        // TLS 1.3: the client's handshake is over before the server decides; the alert ends its first read.
        XCTAssertTrue(failureMessage(c).contains("alert certificate required"), failureMessage(c))
    }

    func testClientCertificateRequired_goodCertificate_verifies() throws {
        let server = try clientCertificateServer(.required)
        var options = Fixtures.verifyingClientOptions()
        options.certificateFiles = [Fixtures.path("client.pem")]
        let client = try TLSContext.client(options)
        let (s, c) = try driver.connect(server: server, client: client)
        handshake(s, c)
        XCTAssertTrue(s.connection.peerCertificatePresented)
        XCTAssertEqual(s.connection.verifyResult, 0)
        XCTAssertEqual(s.connection.peerSubject, "/CN=client")
        exchangeAndClose(s, c)
    }

    func testClientCertificateRequired_certificateFromAnotherCA_serverRefuses() throws {
        let server = try clientCertificateServer(.required)
        var options = Fixtures.verifyingClientOptions()
        options.certificateFiles = [Fixtures.path("foreign.pem")]
        let client = try TLSContext.client(options)
        let (s, c) = try driver.connect(server: server, client: client)
        runUntilBothEnd(s, c)
        XCTAssertTrue(
            s.handshakeFailure?.message.hasSuffix("(verify error 20: unable to get local issuer certificate)") ?? false,
            failureMessage(s)
        )
    }

    func testClientCertificateOptional_noCertificate_connects() throws {
        let server = try clientCertificateServer(.optional)
        let client = try TLSContext.client(Fixtures.verifyingClientOptions())
        let (s, c) = try driver.connect(server: server, client: client)
        handshake(s, c)
        XCTAssertFalse(s.connection.peerCertificatePresented)
        XCTAssertNil(s.connection.peerSubject)
        XCTAssertEqual(s.connection.verifyResult, 0)
        exchangeAndClose(s, c)
    }

    func testTLS11Client_refusedByDefaultServer() throws {
        let server = try TLSContext.server(Fixtures.serverOptions("server-rsa.pem"))
        var options = TLSContextOptions()
        options.minVersion = .tls1_0
        options.maxVersion = .tls1_1
        options.ciphers = "DEFAULT:@SECLEVEL=0"  // OpenSSL 3 offers TLS < 1.2 only at security level 0
        let client = try TLSContext.client(options)
        let (s, c) = try driver.connect(server: server, client: client)
        runUntilBothEnd(s, c)
        XCTAssertEqual(
            s.handshakeFailure?.message,
            "SSL_do_handshake: error:0A000102:SSL routines::unsupported protocol"
        )
        XCTAssertTrue(failureMessage(c).contains("alert protocol version"), failureMessage(c))
    }

    func testTLS12ClientOfferingOnlyCBC_refusedByDefaultCiphers() throws {
        let server = try TLSContext.server(Fixtures.serverOptions("server-rsa.pem"))
        var options = TLSContextOptions()
        options.maxVersion = .tls1_2
        options.ciphers = "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:AES128-SHA"
        let client = try TLSContext.client(options)
        let (s, c) = try driver.connect(server: server, client: client)
        runUntilBothEnd(s, c)
        XCTAssertEqual(s.handshakeFailure?.message, "SSL_do_handshake: error:0A0000C1:SSL routines::no shared cipher")
        XCTAssertTrue(c.isFailed)
    }
}
