// SPDX-License-Identifier: Apache-2.0
// Session resumption: a client TLSSessionSlot per server, tickets (TLS 1.3 and 1.2), the stateful cache, the
// ticket key rotation, and resumption switched off entirely (what the full-handshake benchmarks need).
import SluiceCore
import XCTest

@testable import SluiceTLS

final class TLSSessionTests: TLSTestCase {
    private func serverContext(
        tickets: Bool = true,
        cacheSize: Int = 20_000,
        maxVersion: TLSVersion? = nil
    ) throws -> TLSContext {
        var options = Fixtures.serverOptions("server.pem")
        options.sessionTickets = tickets
        options.sessionCacheSize = cacheSize
        options.maxVersion = maxVersion
        return try TLSContext.server(options)
    }

    private func clientContext(tickets: Bool = true, cacheSize: Int = 20_000) throws -> TLSContext {
        var options = Fixtures.verifyingClientOptions()
        options.sessionTickets = tickets
        options.sessionCacheSize = cacheSize
        return try TLSContext.client(options)
    }

    /// One full connection (handshake, a few bytes, close_notify both ways); returns whether each side saw a
    /// resumed session.
    private func connectOnce(
        _ server: TLSContext,
        _ client: TLSContext,
        _ slot: TLSSessionSlot,
        serverName: String? = nil,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws -> (server: Bool, client: Bool) {
        let (s, c) = try driver.connect(server: server, client: client, serverName: serverName, sessionSlot: slot)
        handshake(s, c, file: file, line: line)
        exchangeAndClose(s, c, file: file, line: line)
        defer {
            driver.close(s)
            driver.close(c)
        }
        return (s.connection.sessionReused, c.connection.sessionReused)
    }

    func testResumption_tls13Tickets_secondConnectionResumes() throws {
        let server = try serverContext()
        let client = try clientContext()
        let slot = TLSSessionSlot()
        XCTAssertFalse(slot.hasSession)
        let first = try connectOnce(server, client, slot)
        XCTAssertFalse(first.server)
        XCTAssertFalse(first.client)
        XCTAssertTrue(slot.hasSession, "the TLS 1.3 ticket arrived after the handshake and was saved")
        let second = try connectOnce(server, client, slot)
        XCTAssertTrue(second.server)
        XCTAssertTrue(second.client)
    }

    /// A per-request `sni` sends different names to one server: a session is offered only under the name it
    /// was negotiated for (the name picked the virtual host that issued it).
    func testResumption_sessionIsOfferedOnlyUnderItsServerName() throws {
        let server = try serverContext()
        let client = try clientContext()
        let slot = TLSSessionSlot()
        XCTAssertFalse(try connectOnce(server, client, slot, serverName: "localhost").client)
        XCTAssertEqual(slot.serverName, "localhost")
        let other = try connectOnce(server, client, slot, serverName: "127.0.0.1")
        XCTAssertFalse(other.client, "another name: full handshake")
        XCTAssertEqual(slot.serverName, "127.0.0.1", "the new name's session replaced the old one")
        XCTAssertTrue(try connectOnce(server, client, slot, serverName: "127.0.0.1").client)
    }

    /// The proxy usually frees a server connection without sending close_notify (the server closed, or the
    /// exchange ended): the saved session must stay resumable. OpenSSL marks the SSL's own session not
    /// resumable in that case, so the slot must hold a copy.
    func testResumption_connectionFreedWithoutCloseNotify_stillResumes() throws {
        let server = try serverContext()
        let client = try clientContext()
        let slot = TLSSessionSlot()
        do {
            let (s, c) = try driver.connect(server: server, client: client, sessionSlot: slot)
            handshake(s, c)
            s.send(Array("bye".utf8), thenShutdown: true)
            driver.run(until: { c.readEnd != nil })
            driver.close(s)
            driver.close(c)
        }
        XCTAssertTrue(slot.hasSession)
        XCTAssertTrue(try connectOnce(server, client, slot).client, "the ticket saved before an abrupt end resumes")
    }

    func testResumption_tls12Tickets_secondConnectionResumes() throws {
        let server = try serverContext(cacheSize: 0, maxVersion: .tls1_2)
        let client = try clientContext()
        let slot = TLSSessionSlot()
        XCTAssertFalse(try connectOnce(server, client, slot).client)
        XCTAssertTrue(slot.hasSession)
        XCTAssertTrue(try connectOnce(server, client, slot).client)
    }

    func testResumption_serverCacheWithoutTickets_resumesStatefully() throws {
        for version in [TLSVersion.tls1_2, .tls1_3] {
            let server = try serverContext(tickets: false, maxVersion: version)
            let client = try clientContext()
            let slot = TLSSessionSlot()
            XCTAssertFalse(try connectOnce(server, client, slot).server, version.name)
            XCTAssertEqual(try connectOnce(server, client, slot).server, true, version.name)
        }
    }

    func testResumption_serverTicketsAndCacheOff_neverResumes() throws {
        for version in [TLSVersion.tls1_2, .tls1_3] {
            let server = try serverContext(tickets: false, cacheSize: 0, maxVersion: version)
            let client = try clientContext()
            let slot = TLSSessionSlot()
            for _ in 0..<3 {
                let reused = try connectOnce(server, client, slot)
                XCTAssertFalse(reused.server, version.name)
                XCTAssertFalse(reused.client, version.name)
            }
            if version == .tls1_3 { XCTAssertFalse(slot.hasSession, "no ticket was sent at all") }
        }
    }

    func testResumption_clientTicketsAndCacheOff_neverOffersASession() throws {
        let server = try serverContext()
        let client = try clientContext(tickets: false, cacheSize: 0)
        let slot = TLSSessionSlot()
        for _ in 0..<2 {
            XCTAssertFalse(try connectOnce(server, client, slot).server)
        }
        XCTAssertFalse(slot.hasSession)
    }

    func testResumption_slotCleared_fullHandshake() throws {
        let server = try serverContext()
        let client = try clientContext()
        let slot = TLSSessionSlot()
        _ = try connectOnce(server, client, slot)
        slot.clear()
        XCTAssertFalse(slot.hasSession)
        XCTAssertFalse(try connectOnce(server, client, slot).server)
    }

    /// A ticket made with the previous key still resumes (and is renewed); two rotations later it does not.
    func testTicketKeyRotation_previousKeyAccepted_olderKeyRefused() throws {
        let server = try serverContext(cacheSize: 0)
        let client = try clientContext()
        let keys = try XCTUnwrap(server.ticketKeys)
        let slot = TLSSessionSlot()
        _ = try connectOnce(server, client, slot)  // ticket under key 0
        keys.rotate(nowNs: Sys.monotonicNanoseconds())  // key 1 current, key 0 previous
        XCTAssertTrue(try connectOnce(server, client, slot).server, "the previous key still decrypts")
        // The slot now holds a ticket under key 1. Two rotations forget key 1.
        keys.rotate(nowNs: Sys.monotonicNanoseconds())
        XCTAssertTrue(try connectOnce(server, client, slot).server, "key 1 is the previous key now")
        keys.rotate(nowNs: Sys.monotonicNanoseconds())
        keys.rotate(nowNs: Sys.monotonicNanoseconds())
        XCTAssertFalse(try connectOnce(server, client, slot).server, "a ticket under a forgotten key")
    }

    func testTicketKeys_rotateByThemselvesAfterTheInterval() throws {
        let start = Sys.monotonicNanoseconds()  // before the ring exists: its clock starts at or after this
        let keys = try TLSTicketKeys()
        let first = keys.encryptionKey(nowNs: start)
        let firstName = Array(UnsafeBufferPointer(start: first.name, count: TLSTicketKeys.nameLength))
        let same = keys.encryptionKey(nowNs: start + TLSTicketKeys.rotationIntervalNs - 1)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: same.name, count: TLSTicketKeys.nameLength)), firstName)
        let next = keys.encryptionKey(nowNs: start + 2 * TLSTicketKeys.rotationIntervalNs)
        XCTAssertNotEqual(Array(UnsafeBufferPointer(start: next.name, count: TLSTicketKeys.nameLength)), firstName)
        XCTAssertEqual(
            firstName.withUnsafeBufferPointer { keys.decryptionKey(named: $0.baseAddress!)?.isCurrent },
            false
        )
    }
}
