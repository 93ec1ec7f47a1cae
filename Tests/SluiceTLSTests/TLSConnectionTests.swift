// SPDX-License-Identifier: Apache-2.0
// TLSConnection over a socketpair through the real poller: handshakes that hit WANT_READ and WANT_WRITE,
// bulk transfer both ways, plaintext hidden inside OpenSSL served by the event cache, close_notify and abrupt
// EOF. Every test ends with an empty OpenSSL error queue (TLSTestCase.tearDown).
import Glibc
import SluiceCore
import SluiceTLS
import XCTest

final class TLSConnectionTests: TLSTestCase {
    func testHandshake_smallSocketBuffersAndLargeChain_hitsWantReadAndWantWrite() throws {
        let server = try TLSContext.server(Fixtures.serverOptions("big.pem"))
        let client = try TLSContext.client(Fixtures.verifyingClientOptions())
        let (s, c) = try driver.connect(server: server, client: client, sendBuffer: 1024)
        handshake(s, c)
        XCTAssertGreaterThan(s.handshakeWantRead, 0, "the server waited for the ClientHello")
        XCTAssertGreaterThan(c.handshakeWantRead, 0, "the client waited for the server's flight")
        XCTAssertGreaterThan(s.handshakeWantWrite, 0, "a ~10 KB flight into a small socket buffer blocks")
        XCTAssertEqual(s.connection.negotiatedProtocol, "TLSv1.3")
        XCTAssertEqual(c.connection.negotiatedProtocol, "TLSv1.3")
        XCTAssertEqual(c.connection.verifyResult, 0)
        XCTAssertEqual(c.connection.peerSubject, "/CN=localhost")
        XCTAssertNotNil(s.connection.cipher)
        XCTAssertEqual(s.connection.cipher, c.connection.cipher)
        XCTAssertFalse(s.connection.sessionReused)
        exchangeAndClose(s, c)
    }

    func testTransfer_oneMegabyteEachWay_digestsEqual() throws {
        let server = try TLSContext.server(Fixtures.serverOptions("server.pem"))
        let client = try TLSContext.client(Fixtures.verifyingClientOptions())
        let (s, c) = try driver.connect(server: server, client: client, sendBuffer: 4096)
        let toServer = pseudoRandomBytes(1 << 20, seed: 1)
        let toClient = pseudoRandomBytes(1 << 20, seed: 2)
        s.keepsReceivedBytes = false
        c.keepsReceivedBytes = false
        c.send(toServer, thenShutdown: true)
        s.send(toClient, thenShutdown: true)
        driver.run(until: { s.readEnd != nil && c.readEnd != nil && s.isDoneSending && c.isDoneSending })
        XCTAssertEqual(s.readEnd, .closed)
        XCTAssertEqual(c.readEnd, .closed)
        XCTAssertEqual(s.receivedCount, toServer.count)
        XCTAssertEqual(c.receivedCount, toClient.count)
        XCTAssertEqual(s.receivedDigest.finish(), Digest.of(toServer))
        XCTAssertEqual(c.receivedDigest.finish(), Digest.of(toClient))
        XCTAssertGreaterThan(s.writeWantWrite + c.writeWantWrite, 0, "1 MB through small buffers must block")
        XCTAssertNil(s.writeFailure)
        XCTAssertNil(c.writeFailure)
    }

    func testTransfer_tls12WithRSACertificate_usesAnAEADCipher() throws {
        var options = Fixtures.serverOptions("server-rsa.pem")
        options.maxVersion = .tls1_2
        let server = try TLSContext.server(options)
        let client = try TLSContext.client(Fixtures.verifyingClientOptions())
        let (s, c) = try driver.connect(server: server, client: client, sendBuffer: 4096)
        handshake(s, c)
        XCTAssertEqual(c.connection.negotiatedProtocol, "TLSv1.2")
        XCTAssertEqual(c.connection.cipher, "ECDHE-RSA-AES128-GCM-SHA256")
        let payload = pseudoRandomBytes(200_000, seed: 3)
        c.send(payload, thenShutdown: true)
        s.keepsReceivedBytes = false
        driver.run(until: { s.readEnd != nil })
        XCTAssertEqual(s.readEnd, .closed)
        XCTAssertEqual(s.receivedDigest.finish(), Digest.of(payload))
    }

    /// POLLER.md "Invisible buffers": one record is read from the socket into OpenSSL, the owner takes 16
    /// bytes at a time, so most of the plaintext waits inside OpenSSL while the socket is empty. epoll never
    /// reports it; only the event cache can bring the owner back, and it must until everything is read.
    func testInvisibleBuffer_plaintextInsideOpenSSL_servedByEventCacheUntilDrained() throws {
        let server = try TLSContext.server(Fixtures.serverOptions("server.pem"))
        let client = try TLSContext.client(Fixtures.verifyingClientOptions())
        let (s, c) = try driver.connect(server: server, client: client)
        handshake(s, c)
        // Let the post-handshake traffic (TLS 1.3 tickets) settle, so the only data left is the payload.
        driver.run(until: { c.readNeedsSocket && s.readNeedsSocket })
        s.readBufferSize = 16
        s.oneReadPerCall = true
        let payload = pseudoRandomBytes(4000, seed: 4)  // one TLS record
        c.send(payload)
        driver.run(until: { c.isDoneSending })
        XCTAssertEqual(queuedBytes(s.fd), payload.count + 22, "one record: 5-byte header, payload, type, 16-byte tag")

        // First server call: the whole record leaves the socket; 16 bytes reach the owner.
        driver.run(until: { s.receivedCount > 0 })
        XCTAssertEqual(s.receivedCount, 16)
        XCTAssertTrue(s.connection.hasPendingPlaintext)
        XCTAssertEqual(queuedBytes(s.fd), 0, "the record is inside OpenSSL now")

        // The stall this design prevents: an owner that polls here is never called again (epoll is silent).
        s.forcePollRecvForTest()
        let callsBefore = s.calls
        XCTAssertEqual(driver.turnWithoutWaiting(), 0)
        XCTAssertEqual(driver.turnWithoutWaiting(), 0)
        XCTAssertEqual(s.calls, callsBefore, "nothing reports buffered plaintext")
        XCTAssertEqual(s.receivedCount, 16)

        // The owner contract: stay active; the event cache serves it every turn until drained.
        s.resumeReading()
        driver.run(until: { s.receivedCount == payload.count })
        XCTAssertEqual(s.received, payload)
        XCTAssertFalse(s.connection.hasPendingPlaintext)
        XCTAssertGreaterThanOrEqual(s.callsServingInvisiblePlaintext, payload.count / 16 - 1)
        XCTAssertEqual(s.polledWhilePending, 0)
        driver.run(until: { s.readNeedsSocket })  // drained: back to waiting on epoll
    }

    func testCloseNotify_eachSide_readReportsClosed() throws {
        let server = try TLSContext.server(Fixtures.serverOptions("server.pem"))
        let client = try TLSContext.client(Fixtures.verifyingClientOptions())
        let (s, c) = try driver.connect(server: server, client: client)
        handshake(s, c)
        c.send(Array("last words".utf8), thenShutdown: true)
        driver.run(until: { s.readEnd != nil })
        XCTAssertEqual(s.readEnd, .closed)
        XCTAssertEqual(s.received, Array("last words".utf8))
        XCTAssertNil(c.readEnd, "half-closed: the client still reads")
        // Writing after the peer's close_notify is allowed (half-close), then our own close_notify.
        s.send(Array("reply".utf8), thenShutdown: true)
        driver.run(until: { c.readEnd != nil })
        XCTAssertEqual(c.readEnd, .closed)
        XCTAssertEqual(c.received, Array("reply".utf8))
        XCTAssertEqual(s.connection.shutdown(), .done, "a second shutdown sends nothing more")
    }

    func testAbruptEOF_peerClosesWithoutCloseNotify_readReportsTruncated() throws {
        let server = try TLSContext.server(Fixtures.serverOptions("server.pem"))
        let client = try TLSContext.client(Fixtures.verifyingClientOptions())
        let (s, c) = try driver.connect(server: server, client: client)
        handshake(s, c)
        c.send(Array("partial".utf8))
        driver.run(until: { s.receivedCount == 7 })
        driver.close(c)
        driver.run(until: { s.readEnd != nil })
        XCTAssertEqual(s.readEnd, .truncated)
        XCTAssertEqual(s.received, Array("partial".utf8))
        XCTAssertEqual(s.connection.shutdown(), .done, "no close_notify after a truncated stream")
    }

    func testAbruptEOF_beforeClientHello_failsTheHandshakeWithoutErrno() throws {
        let server = try TLSContext.server(Fixtures.serverOptions("server.pem"))
        let client = try TLSContext.client(Fixtures.verifyingClientOptions())
        let (s, c) = try driver.connect(server: server, client: client)
        driver.close(c)
        driver.run(until: { s.handshakeFailure != nil })
        XCTAssertEqual(
            s.handshakeFailure?.message,
            "SSL_do_handshake: the peer closed the connection during the handshake"
        )
        XCTAssertNil(s.handshakeFailure?.systemError, "an EOF, not an errno")
        XCTAssertEqual(s.connection.shutdown(), .done)
    }

    func testPeerGone_whileServerSendsItsFlight_failsWithTheErrno() throws {
        let server = try TLSContext.server(Fixtures.serverOptions("server.pem"))
        let client = try TLSContext.client(Fixtures.verifyingClientOptions())
        let (s, c) = try driver.connect(server: server, client: client)
        // The client sends its ClientHello and closes before the server answers: the hello is still queued
        // for the server, whose reply then meets a closed peer.
        driver.run(until: { c.handshakeWantRead > 0 })
        driver.close(c)
        driver.run(until: { s.handshakeFailure != nil })
        XCTAssertEqual(s.handshakeFailure?.systemError, Errno.brokenPipe, s.handshakeFailure?.message ?? "")
        XCTAssertTrue(s.handshakeFailure?.message.hasPrefix("SSL_do_handshake: Broken pipe") ?? false)
    }

    func testPlaintextClient_onTLSSocket_failsTheHandshakeWithAMessage() throws {
        let server = try TLSContext.server(Fixtures.serverOptions("server.pem"))
        let (serverFD, clientFD) = driver.socketPair()
        defer { Sys.close(clientFD) }
        let connection = try TLSConnection(context: server, fd: serverFD)
        defer { Sys.close(serverFD) }
        let request = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        XCTAssertEqual(request.withUnsafeBytes { Sys.send(clientFD, from: $0) }, .processed(request.count))
        guard case .failed(let error) = connection.handshake() else {
            return XCTFail("a plaintext request must fail the handshake")
        }
        XCTAssertTrue(
            error.message.contains("http request") || error.message.contains("wrong version number"),
            error.message
        )
    }
}
