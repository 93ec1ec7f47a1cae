// SPDX-License-Identifier: Apache-2.0
// Test support for SluiceTLS: a client and a server TLSConnection over one socketpair, driven by the real
// Poller<EpollBackend> through a small dispatcher that follows the owner contract of POLLER.md (handshake ->
// read -> write; WANT_READ -> pollRecv, WANT_WRITE -> pollSend, remembering which operation waits on which
// direction; plaintext pending inside OpenSSL keeps recv active). No sleeps: the loop waits on epoll, and a
// turn in which nothing at all happens for `stallTimeoutMs` fails the test as a stall.
import CSluiceSSL
import Glibc
import SluiceCore
import SluiceTLS
import XCTest

/// Certificates made by Tests/Fixtures/certs/regenerate.sh.
enum Fixtures {
    static let directory: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // SluiceTLSTests/TLSTestSupport.swift
        return parts.joined(separator: "/") + "/Fixtures/certs"
    }()

    static func path(_ name: String) -> String { directory + "/" + name }

    static func serverOptions(_ files: String..., alpn: [String] = []) -> TLSContextOptions {
        var options = TLSContextOptions()
        options.certificateFiles = files.map(path)
        options.alpn = alpn
        return options
    }

    /// A client trusting the test CA, verifying the server and its name.
    static func verifyingClientOptions(serverName: String = "localhost") -> TLSContextOptions {
        var options = TLSContextOptions()
        options.caFile = path("ca.pem")
        options.verify = .required
        options.serverName = serverName
        return options
    }
}

/// SHA-256 of a byte stream, through OpenSSL's EVP interface.
final class Digest {
    private let context = EVP_MD_CTX_new()

    init() { EVP_DigestInit_ex(context, EVP_sha256(), nil) }

    deinit { EVP_MD_CTX_free(context) }

    func update(_ bytes: UnsafeRawBufferPointer) { EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) }

    func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var count: CUnsignedInt = 0
        EVP_DigestFinal_ex(context, &out, &count)
        return Array(out[0..<Int(count)])
    }

    static func of(_ bytes: [UInt8]) -> [UInt8] {
        let digest = Digest()
        bytes.withUnsafeBytes { digest.update($0) }
        return digest.finish()
    }
}

/// Deterministic pseudo-random bytes (xorshift64*).
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    var bytes = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        bytes[i] = UInt8(truncatingIfNeeded: (state &* 0x2545_F491_4F6C_DD1D) >> 56)
    }
    return bytes
}

/// Bytes waiting in the socket's receive queue (FIONREAD).
func queuedBytes(_ fd: FD) -> Int {
    var count: CInt = 0
    _ = ioctl(fd.rawValue, UInt(FIONREAD), &count)
    return Int(count)
}

/// How one side's read stream ended.
enum ReadEnd: Equatable {
    case closed
    case truncated
    case failed(TLSError)
}

/// One side of a test connection: a TLSConnection on one end of a socketpair, plus a script (bytes to send,
/// whether to send close_notify after them, how to read) and what happened.
final class Peer {
    /// What an operation waits for before it can go on.
    enum Need: Equatable {
        /// Nothing: finished, or nothing to do.
        case nothing
        /// Try again without waiting (the event cache calls back next turn).
        case active
        /// A socket read hit EAGAIN.
        case readable
        /// A socket write hit EAGAIN.
        case writable
    }

    let label: String
    let fd: FD
    let connection: TLSConnection
    unowned let driver: TLSDriver

    // Script.
    var outgoing: [UInt8] = []
    var shutdownAfterSending = false
    /// Size of the application read buffer.
    var readBufferSize = 16 * 1024 {
        didSet {
            readBuffer.deallocate()
            readBuffer = .allocate(byteCount: readBufferSize, alignment: 1)
        }
    }
    /// Stop after one read per call while OpenSSL still holds plaintext, as an owner whose buffer filled up.
    var oneReadPerCall = false
    var keepsReceivedBytes = true

    // Outcome.
    private(set) var handshakeDone = false
    private(set) var handshakeFailure: TLSError?
    private(set) var readEnd: ReadEnd?
    private(set) var writeFailure: String?
    private(set) var shutdownDone = false
    private(set) var sent = 0
    private(set) var received: [UInt8] = []
    private(set) var receivedCount = 0
    let receivedDigest = Digest()

    // Counters.
    private(set) var calls = 0
    private(set) var handshakeWantRead = 0
    private(set) var handshakeWantWrite = 0
    private(set) var writeWantWrite = 0
    private(set) var readWantRead = 0
    /// Calls made while plaintext waited inside OpenSSL and the socket itself was empty: only the event cache
    /// can have made them.
    private(set) var callsServingInvisiblePlaintext = 0
    /// Directions the owner asked to poll (pollRecv) while plaintext was pending: must stay 0.
    private(set) var polledWhilePending = 0

    private var readNeed = Need.active
    private var writeNeed = Need.nothing
    private var readBuffer: UnsafeMutableRawBufferPointer

    init(label: String, fd: FD, connection: TLSConnection, driver: TLSDriver) {
        self.label = label
        self.fd = fd
        self.connection = connection
        self.driver = driver
        readBuffer = .allocate(byteCount: 16 * 1024, alignment: 1)
    }

    deinit { readBuffer.deallocate() }

    var isFailed: Bool {
        handshakeFailure != nil || writeFailure != nil || { if case .failed = readEnd { true } else { false } }()
    }

    /// True when everything scripted was sent (and close_notify too if asked).
    var isDoneSending: Bool { sent == outgoing.count && (!shutdownAfterSending || shutdownDone) }

    /// True when the read side waits on epoll (socket drained, nothing pending inside OpenSSL).
    var readNeedsSocket: Bool { readNeed == .readable && !connection.hasPendingPlaintext }

    /// Queues more bytes and makes the send direction active.
    func send(_ bytes: [UInt8], thenShutdown: Bool = false) {
        outgoing += bytes
        shutdownAfterSending = thenShutdown
        if handshakeDone {
            writeNeed = .active
            applyNeeds()
        }
    }

    /// Sends close_notify once everything queued has gone.
    func shutdownWhenSent() {
        send([], thenShutdown: true)
    }

    /// Called by the dispatcher with the directions to attempt now.
    func handle(_ events: IOEvents) {
        calls += 1
        if connection.hasPendingPlaintext && queuedBytes(fd) == 0 { callsServingInvisiblePlaintext += 1 }
        var events = events
        if !handshakeDone {
            switch connection.handshake() {
            case .done:
                handshakeDone = true
                readNeed = .active
                writeNeed = outgoing.isEmpty && !shutdownAfterSending ? .nothing : .active
                events = [.readable, .writable]  // HAProxy's order: handshake, then recv, then send, same call
            case .wantRead:
                handshakeWantRead += 1
                driver.poller.pollRecv(fd)
                driver.poller.stopSend(fd)
                return
            case .wantWrite:
                handshakeWantWrite += 1
                driver.poller.pollSend(fd)
                driver.poller.stopRecv(fd)
                return
            case .failed(let error):
                handshakeFailure = error
                driver.poller.stopBoth(fd)
                return
            }
        }
        let canRead = events.contains(.readable) || (readNeed == .writable && events.contains(.writable))
        if readEnd == nil && readNeed != .nothing && canRead { readSome() }
        let canWrite = events.contains(.writable) || (writeNeed == .readable && events.contains(.readable))
        if writeNeed != .nothing && canWrite && !isFailed { writeSome() }
        applyNeeds()
    }

    private func readSome() {
        while true {
            switch connection.read(into: readBuffer) {
            case .processed(let n):
                let bytes = UnsafeRawBufferPointer(rebasing: readBuffer[0..<n])
                receivedDigest.update(bytes)
                receivedCount += n
                if keepsReceivedBytes { received += bytes }
                if oneReadPerCall && connection.hasPendingPlaintext {
                    readNeed = .active  // the owner's buffer is "full"; OpenSSL still holds plaintext
                    return
                }
            case .wantRead:
                readWantRead += 1
                readNeed = .readable
                return
            case .wantWrite:
                readNeed = .writable
                return
            case .closed:
                readEnd = .closed
                readNeed = .nothing
                return
            case .truncated:
                readEnd = .truncated
                readNeed = .nothing
                return
            case .failed(let error):
                readEnd = .failed(error)
                readNeed = .nothing
                writeNeed = .nothing
                return
            }
        }
    }

    private func writeSome() {
        while sent < outgoing.count {
            let result = outgoing.withUnsafeBytes { all in
                connection.write(from: UnsafeRawBufferPointer(rebasing: all[sent..<min(sent + 64 * 1024, all.count)]))
            }
            switch result {
            case .processed(let n):
                sent += n
            case .wantWrite:
                writeWantWrite += 1
                writeNeed = .writable
                return
            case .wantRead:
                writeNeed = .readable
                return
            case .closed, .truncated:
                writeFailure = "write ended: \(result)"
                writeNeed = .nothing
                return
            case .failed(let error):
                writeFailure = error.message
                writeNeed = .nothing
                return
            }
        }
        guard shutdownAfterSending && !shutdownDone else {
            writeNeed = .nothing
            return
        }
        switch connection.shutdown() {
        case .done:
            shutdownDone = true
            writeNeed = .nothing
        case .wantWrite:
            writeNeed = .writable
        case .wantRead:
            writeNeed = .readable
        case .failed(let error):
            writeFailure = error.message
            writeNeed = .nothing
        }
    }

    /// Turns what each operation waits for into poller verbs, once per call.
    private func applyNeeds() {
        let poller = driver.poller
        if readNeed == .active {
            poller.wantRecv(fd)
        } else if readNeed == .readable || writeNeed == .readable {
            if connection.hasPendingPlaintext { polledWhilePending += 1 }
            poller.pollRecv(fd)
        } else {
            poller.stopRecv(fd)
        }
        if writeNeed == .active {
            poller.wantSend(fd)
        } else if writeNeed == .writable || readNeed == .writable {
            poller.pollSend(fd)
        } else {
            poller.stopSend(fd)
        }
    }

    /// For the invisible-buffer test: the owner wrongly polls instead of staying active.
    func forcePollRecvForTest() {
        driver.poller.pollRecv(fd)
    }

    /// Makes recv active again, as an owner whose buffer got room back.
    func resumeReading() {
        readNeed = .active
        applyNeeds()
    }
}

/// The loop of a test: the real poller with a dispatcher calling each Peer.
final class TLSDriver: PollDispatcher {
    let poller: Poller<EpollBackend>
    private var peers: [UInt32: Peer] = [:]
    private var nextOwner: UInt32 = 1
    private var dispatches = 0
    static let kind = OwnerKind(rawValue: 7)
    static let stallTimeoutMs: Int32 = 5000

    init() throws {
        poller = Poller(backend: try EpollBackend(maxEvents: 16), capacity: 65536, maxPollEvents: 16)
    }

    func dispatch(fd: FD, kind: OwnerKind, owner: UInt32, events: IOEvents) {
        dispatches += 1
        peers[owner]?.handle(events)
    }

    /// A connected, non-blocking socketpair; `sendBuffer` shrinks SO_SNDBUF on both ends (the kernel doubles
    /// the value and applies its minimum) so that large writes really hit EAGAIN.
    func socketPair(sendBuffer: CInt? = nil) -> (FD, FD) {
        var sv: [CInt] = [-1, -1]
        let type = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        precondition(socketpair(AF_UNIX, type, 0, &sv) == 0, "socketpair: \(errno)")
        if let size = sendBuffer {
            for fd in sv {
                try! Sys.setsockopt(FD(fd), level: SOL_SOCKET, option: SO_SNDBUF, value: size)
                try! Sys.setsockopt(FD(fd), level: SOL_SOCKET, option: SO_RCVBUF, value: size)
            }
        }
        return (FD(sv[0]), FD(sv[1]))
    }

    /// A server and a client connection over a new socketpair, registered and active (both start their
    /// handshake on the next turn).
    func connect(
        server serverContext: TLSContext,
        client clientContext: TLSContext,
        serverName: String? = nil,
        sessionSlot: TLSSessionSlot? = nil,
        sendBuffer: CInt? = nil
    ) throws -> (server: Peer, client: Peer) {
        let (serverFD, clientFD) = socketPair(sendBuffer: sendBuffer)
        let server = Peer(
            label: "server",
            fd: serverFD,
            connection: try TLSConnection(context: serverContext, fd: serverFD),
            driver: self
        )
        let client = Peer(
            label: "client",
            fd: clientFD,
            connection: try TLSConnection(
                context: clientContext,
                fd: clientFD,
                serverName: serverName,
                sessionSlot: sessionSlot
            ),
            driver: self
        )
        for peer in [server, client] {
            let owner = nextOwner
            nextOwner += 1
            peers[owner] = peer
            poller.register(peer.fd, kind: Self.kind, owner: owner)
            poller.wantRecv(peer.fd)
            poller.wantSend(peer.fd)
        }
        return (server, client)
    }

    /// Closes a peer's socket through the poller (no close_notify) and forgets the peer.
    func close(_ peer: Peer) {
        guard let owner = peers.first(where: { $0.value === peer })?.key else { return }
        peers[owner] = nil
        poller.delete(peer.fd)
    }

    func closeAll() {
        for peer in Array(peers.values) { close(peer) }
    }

    /// Runs loop turns until `condition` holds. Fails (and returns false) on a stall: a turn in which epoll
    /// reported nothing for `stallTimeoutMs` and the event cache was empty, i.e. nobody will ever be called.
    @discardableResult
    func run(
        until condition: () -> Bool,
        maxTurns: Int = 200_000,
        file: StaticString = #filePath,
        line: UInt = #line
    ) -> Bool {
        var turns = 0
        while !condition() {
            turns += 1
            if turns > maxTurns {
                XCTFail("condition not reached after \(maxTurns) turns", file: file, line: line)
                return false
            }
            let before = dispatches
            poller.runTurn(self, timeoutMs: Self.stallTimeoutMs)
            if dispatches == before && poller.cachedCount == 0 && !condition() {
                XCTFail(
                    "stalled: no event for \(Self.stallTimeoutMs) ms and nothing in the event cache",
                    file: file,
                    line: line
                )
                return false
            }
        }
        return true
    }

    /// One turn without waiting; returns how many owner calls it made.
    func turnWithoutWaiting() -> Int {
        let before = dispatches
        poller.runTurn(self, timeoutMs: 0)
        return dispatches - before
    }
}

/// Base class: ignores SIGPIPE (OpenSSL writes with write(2); the daemon ignores it too), gives each test a
/// driver, and checks after each test that the OpenSSL error queue is empty.
class TLSTestCase: XCTestCase {
    var driver: TLSDriver!

    override func setUpWithError() throws {
        try super.setUpWithError()
        signal(SIGPIPE, SIG_IGN)
        driver = try TLSDriver()
    }

    override func tearDown() {
        driver?.closeAll()
        driver = nil
        XCTAssertTrue(TLSErrorQueue.isEmpty, "OpenSSL error queue not empty at the end of the test")
        ERR_clear_error()
        super.tearDown()
    }

    /// Runs until both handshakes finished (or either failed); asserts success.
    func handshake(_ server: Peer, _ client: Peer, file: StaticString = #filePath, line: UInt = #line) {
        driver.run(
            until: { (server.handshakeDone && client.handshakeDone) || server.isFailed || client.isFailed },
            file: file,
            line: line
        )
        XCTAssertNil(
            server.handshakeFailure,
            "server: \(server.handshakeFailure?.message ?? "")",
            file: file,
            line: line
        )
        XCTAssertNil(
            client.handshakeFailure,
            "client: \(client.handshakeFailure?.message ?? "")",
            file: file,
            line: line
        )
    }

    /// Exchanges a few bytes and close_notify both ways, so TLS 1.3 tickets reach the client; asserts both
    /// read streams ended cleanly.
    func exchangeAndClose(_ server: Peer, _ client: Peer, file: StaticString = #filePath, line: UInt = #line) {
        server.send(Array("hello from server".utf8), thenShutdown: true)
        client.send(Array("hello from client".utf8), thenShutdown: true)
        driver.run(until: { server.readEnd != nil && client.readEnd != nil }, file: file, line: line)
        XCTAssertEqual(server.readEnd, .closed, file: file, line: line)
        XCTAssertEqual(client.readEnd, .closed, file: file, line: line)
        XCTAssertEqual(server.received, Array("hello from client".utf8), file: file, line: line)
        XCTAssertEqual(client.received, Array("hello from server".utf8), file: file, line: line)
    }
}
