// SPDX-License-Identifier: Apache-2.0
// Sys wrappers against the real kernel (never mocked): socketpairs, pipes and loopback TCP on port 0. Waiting is
// done with poll(2) on the descriptor (an event, with a generous bound that only matters on failure), never with
// sleeps.
import Glibc
import XCTest

@testable import SluiceCore

final class SysSocketTests: XCTestCase {
    private var opened: [FD] = []

    override func tearDown() {
        for fd in opened where Sys.isOpen(fd) { Sys.close(fd) }
        opened = []
        super.tearDown()
    }

    private func track(_ fd: FD) -> FD {
        opened.append(fd)
        return fd
    }

    private func socketPair(file: StaticString = #filePath, line: UInt = #line) -> (FD, FD) {
        var sv: [CInt] = [-1, -1]
        let type = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        XCTAssertEqual(socketpair(AF_UNIX, type, 0, &sv), 0, file: file, line: line)
        return (track(FD(sv[0])), track(FD(sv[1])))
    }

    /// Waits (poll(2), bounded) until `fd` reports one of `events`; returns the revents.
    @discardableResult
    private func waitFor(_ fd: FD, _ events: Int16, file: StaticString = #filePath, line: UInt = #line) -> Int16 {
        var pfd = pollfd(fd: fd.rawValue, events: events, revents: 0)
        let n = poll(&pfd, 1, 10_000)
        XCTAssertEqual(n, 1, "fd \(fd.rawValue) never became ready", file: file, line: line)
        return pfd.revents
    }

    private func recv(_ fd: FD, max: Int = 256) -> (IOResult, [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: max)
        let result = buffer.withUnsafeMutableBytes { Sys.recv(fd, into: $0) }
        if case .processed(let n) = result { return (result, Array(buffer[0..<n])) }
        return (result, [])
    }

    private func send(_ fd: FD, _ bytes: [UInt8]) -> IOResult {
        bytes.withUnsafeBytes { Sys.send(fd, from: $0) }
    }

    private static let loopback = IPEndpoint(ipv4: 0x7F00_0001, port: 0)

    /// A listening TCP socket on 127.0.0.1 with a kernel-chosen port.
    private func listener() throws -> (FD, IPEndpoint) {
        let fd = track(try Sys.socket(domain: AF_INET, type: CInt(SOCK_STREAM.rawValue)))
        try Sys.bind(fd, to: Self.loopback)
        try Sys.listen(fd, backlog: 16)
        let endpoint = Sys.localEndpoint(fd)
        XCTAssertEqual(endpoint.family, .ipv4)
        XCTAssertNotEqual(endpoint.port, 0)
        return (fd, endpoint)
    }

    /// A connected loopback TCP pair: (client, server side as accepted).
    private func tcpPair() throws -> (client: FD, server: FD) {
        let (listening, endpoint) = try listener()
        let client = track(try Sys.socket(domain: AF_INET, type: CInt(SOCK_STREAM.rawValue)))
        switch Sys.connect(client, to: endpoint) {
        case .connected: break
        case .inProgress:
            waitFor(client, Int16(POLLOUT))
            XCTAssertNil(Sys.pendingError(client))
        case .failed(let err): XCTFail("connect: \(err)")
        }
        waitFor(listening, Int16(POLLIN))
        guard case .accepted(let server, let peer) = Sys.accept4(listening) else {
            XCTFail("accept4 found no connection")
            throw Errno(rawValue: EAGAIN)
        }
        XCTAssertEqual(peer, Sys.localEndpoint(client), "accept4 reports the client's address")
        return (client, track(server))
    }

    // MARK: recv / send

    func testRecv_onEmptyNonBlockingSocket_returnsWouldBlock() {
        let (a, _) = socketPair()
        XCTAssertEqual(recv(a).0, .wouldBlock)
    }

    func testRecv_returnsData_thenEOFOncePeerClosed() {
        let (a, b) = socketPair()
        XCTAssertEqual(send(b, [1, 2, 3]), .processed(3))
        Sys.close(b)
        let (result, bytes) = recv(a)
        XCTAssertEqual(result, .processed(3))
        XCTAssertEqual(bytes, [1, 2, 3])
        XCTAssertEqual(recv(a).0, .eof)
        XCTAssertEqual(recv(a).0, .eof, "EOF is sticky")
    }

    func testRecv_afterShutdownWrite_returnsEOF_whileOtherDirectionStillWorks() throws {
        let (client, server) = try tcpPair()
        Sys.shutdownWrite(client)
        waitFor(server, Int16(POLLIN))
        XCTAssertEqual(recv(server).0, .eof)
        XCTAssertEqual(send(server, [42]), .processed(1), "half-close: the other direction is open")
        waitFor(client, Int16(POLLIN))
        XCTAssertEqual(recv(client).1, [42])
    }

    func testRecv_afterPeerReset_returnsECONNRESET() throws {
        let (client, server) = try tcpPair()
        Sys.setLingerReset(server)
        Sys.close(server)  // SO_LINGER {1, 0}: RST instead of FIN
        waitFor(client, Int16(POLLIN))
        XCTAssertEqual(recv(client).0, .failed(.connectionReset))
    }

    func testSend_toClosedPeer_returnsEPIPE_withoutSIGPIPE() {
        let (a, b) = socketPair()
        Sys.close(b)
        // With the default SIGPIPE disposition, a send without MSG_NOSIGNAL would kill the test process here.
        XCTAssertEqual(send(a, [1]), .failed(.brokenPipe))
        XCTAssertEqual(send(a, [1]), .failed(.brokenPipe))
    }

    func testSend_onFullSocket_returnsWouldBlock_andResumesWhenPeerReads() {
        let (a, b) = socketPair()
        let chunk = [UInt8](repeating: 0xAB, count: 65536)
        var sent = 0
        var result = send(a, chunk)
        while case .processed(let n) = result {
            sent += n
            result = send(a, chunk)
        }
        XCTAssertEqual(result, .wouldBlock)
        XCTAssertGreaterThan(sent, 0)
        var received = 0
        while case (.processed(let n), _) = recv(b, max: 65536) { received += n }
        XCTAssertEqual(received, sent)
        waitFor(a, Int16(POLLOUT))
        XCTAssertEqual(send(a, [1]), .processed(1))
    }

    // MARK: accept / connect

    func testAccept4_onEmptyListener_returnsWouldBlock() throws {
        let (listening, _) = try listener()
        guard case .wouldBlock = Sys.accept4(listening) else { return XCTFail("expected .wouldBlock") }
        XCTAssertEqual(Sys.socketInfo(listening)?.isListening, true)
        XCTAssertEqual(Sys.socketInfo(listening)?.type, CInt(SOCK_STREAM.rawValue))
        XCTAssertEqual(Sys.socketInfo(listening)?.domain, AF_INET)
    }

    func testAccept4_givesNonBlockingCloseOnExecSocket() throws {
        let (_, server) = try tcpPair()
        XCTAssertNotEqual(fcntl(server.rawValue, F_GETFL) & O_NONBLOCK, 0)
        XCTAssertNotEqual(fcntl(server.rawValue, F_GETFD) & FD_CLOEXEC, 0)
        XCTAssertEqual(recv(server).0, .wouldBlock)
    }

    func testConnect_toClosedPort_isRefused() throws {
        // A bound socket that does not listen holds a port nobody else can take: connecting to it is refused.
        let holder = track(try Sys.socket(domain: AF_INET, type: CInt(SOCK_STREAM.rawValue)))
        try Sys.bind(holder, to: Self.loopback)
        let closedPort = Sys.localEndpoint(holder)
        let client = track(try Sys.socket(domain: AF_INET, type: CInt(SOCK_STREAM.rawValue)))
        switch Sys.connect(client, to: closedPort) {
        case .failed(let err):
            XCTAssertEqual(err, .connectionRefused)
        case .inProgress:
            waitFor(client, Int16(POLLOUT))
            XCTAssertEqual(Sys.pendingError(client), .connectionRefused)
            XCTAssertNil(Sys.pendingError(client), "reading SO_ERROR clears it")
        case .connected:
            XCTFail("connected to a port nobody listens on")
        }
    }

    func testSocket_isNonBlockingAndCloseOnExec() throws {
        let fd = track(try Sys.socket(domain: AF_INET, type: CInt(SOCK_STREAM.rawValue)))
        XCTAssertNotEqual(fcntl(fd.rawValue, F_GETFL) & O_NONBLOCK, 0)
        XCTAssertNotEqual(fcntl(fd.rawValue, F_GETFD) & FD_CLOEXEC, 0)
    }

    func testBind_toPortInUse_throwsEADDRINUSE() throws {
        let (_, endpoint) = try listener()
        let other = track(try Sys.socket(domain: AF_INET, type: CInt(SOCK_STREAM.rawValue)))
        XCTAssertThrowsError(try Sys.bind(other, to: endpoint)) { error in
            XCTAssertEqual(error as? Errno, .addressInUse)
        }
    }

    func testSetsockopt_getsockopt_roundTrip() throws {
        let fd = track(try Sys.socket(domain: AF_INET, type: CInt(SOCK_STREAM.rawValue)))
        try Sys.setsockopt(fd, level: CInt(IPPROTO_TCP), option: TCP_NODELAY, value: 1)
        XCTAssertNotEqual(try Sys.getsockopt(fd, level: CInt(IPPROTO_TCP), option: TCP_NODELAY), 0)
        XCTAssertNil(Sys.pendingError(fd))
    }

    func testUnixSocket_bindConnectAccept_andLocalPath() throws {
        var template = Array("/tmp/sluice-test-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { return XCTFail("mkdtemp") }
        let path = String(cString: dir) + "/s.sock"
        defer {
            unlink(path)
            rmdir(dir)
        }
        let listening = track(try Sys.socket(domain: AF_UNIX, type: CInt(SOCK_STREAM.rawValue)))
        try Sys.bind(listening, toUnixPath: path)
        try Sys.listen(listening, backlog: 4)
        XCTAssertEqual(Sys.localUnixPath(listening), path)
        let client = track(try Sys.socket(domain: AF_UNIX, type: CInt(SOCK_STREAM.rawValue)))
        XCTAssertEqual(Sys.connect(client, toUnixPath: path), .connected)
        guard case .accepted(let server, let peer) = Sys.accept4(listening) else { return XCTFail("accept4") }
        _ = track(server)
        XCTAssertEqual(peer.family, .unix)
        XCTAssertEqual(send(client, [5]), .processed(1))
        XCTAssertEqual(recv(server).1, [5])
        let long = String(repeating: "x", count: 200)
        XCTAssertThrowsError(try Sys.bind(client, toUnixPath: long)) { XCTAssertEqual($0 as? Errno, Errno(rawValue: ENAMETOOLONG)) }
    }

    func testUnixConnect_toFullBacklog_failsWithEAGAIN_insteadOfPretendingToBeInProgress() throws {
        var template = Array("/tmp/sluice-test-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { return XCTFail("mkdtemp") }
        let path = String(cString: dir) + "/s.sock"
        defer {
            unlink(path)
            rmdir(dir)
        }
        let listening = track(try Sys.socket(domain: AF_UNIX, type: CInt(SOCK_STREAM.rawValue)))
        try Sys.bind(listening, toUnixPath: path)
        try Sys.listen(listening, backlog: 0)  // one pending connection fills it
        let first = track(try Sys.socket(domain: AF_UNIX, type: CInt(SOCK_STREAM.rawValue)))
        XCTAssertEqual(Sys.connect(first, toUnixPath: path), .connected)
        let second = track(try Sys.socket(domain: AF_UNIX, type: CInt(SOCK_STREAM.rawValue)))
        // An .inProgress here would be a lie: the socket polls writable at once with SO_ERROR 0, unconnected.
        XCTAssertEqual(Sys.connect(second, toUnixPath: path), .failed(.wouldBlock))
        XCTAssertEqual(send(second, [1]), .failed(.notConnected))
    }

    // MARK: pipes, descriptors, signals

    func testPipe_readWrite_wouldBlockAndEOF() throws {
        var fds: [CInt] = [-1, -1]
        XCTAssertEqual(pipe(&fds), 0)  // pipe2 is a GNU extension Glibc's module does not export
        let r = track(FD(fds[0]))
        let w = track(FD(fds[1]))
        try Sys.setNonBlocking(r)
        var buffer = [UInt8](repeating: 0, count: 16)
        XCTAssertEqual(buffer.withUnsafeMutableBytes { Sys.read(r, into: $0) }, .wouldBlock)
        XCTAssertEqual([UInt8]([7, 8]).withUnsafeBytes { Sys.write(w, from: $0) }, .processed(2))
        XCTAssertEqual(buffer.withUnsafeMutableBytes { Sys.read(r, into: $0) }, .processed(2))
        XCTAssertEqual(Array(buffer[0..<2]), [7, 8])
        Sys.close(w)
        XCTAssertEqual(buffer.withUnsafeMutableBytes { Sys.read(r, into: $0) }, .eof)
    }

    func testSetNonBlocking_andSetCloseOnExec_onInheritedDescriptor() throws {
        var fds: [CInt] = [-1, -1]
        XCTAssertEqual(pipe(&fds), 0)  // blocking, inheritable: like a descriptor passed by a parent
        let r = track(FD(fds[0]))
        _ = track(FD(fds[1]))
        XCTAssertEqual(fcntl(r.rawValue, F_GETFL) & O_NONBLOCK, 0)
        try Sys.setNonBlocking(r)
        try Sys.setCloseOnExec(r)
        XCTAssertNotEqual(fcntl(r.rawValue, F_GETFL) & O_NONBLOCK, 0)
        XCTAssertNotEqual(fcntl(r.rawValue, F_GETFD) & FD_CLOEXEC, 0)
        var buffer = [UInt8](repeating: 0, count: 4)
        XCTAssertEqual(buffer.withUnsafeMutableBytes { Sys.read(r, into: $0) }, .wouldBlock)
        XCTAssertNil(Sys.socketInfo(r), "a pipe is not a socket")
    }

    func testIsOpen_followsClose() {
        let (a, _) = socketPair()
        XCTAssertTrue(Sys.isOpen(a))
        Sys.close(a)
        XCTAssertFalse(Sys.isOpen(a))
    }

    func testSignalfd_deliversRaisedSIGUSR2() throws {
        let fd = try Sys.signalfd(blocking: [SIGUSR2])
        defer {
            Sys.close(fd)
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
        }
        XCTAssertNil(Sys.readSignal(fd), "nothing pending")
        XCTAssertNotEqual(fcntl(fd.rawValue, F_GETFL) & O_NONBLOCK, 0)
        XCTAssertEqual(raise(SIGUSR2), 0)  // blocked: stays pending instead of killing the process
        XCTAssertEqual(Sys.readSignal(fd), SIGUSR2)
        XCTAssertNil(Sys.readSignal(fd), "consumed")
    }

    func testSignalfd_wakesTheRealPoller() throws {
        let fd = try Sys.signalfd(blocking: [SIGUSR2])
        let backend = try EpollBackend(maxEvents: 4)
        let poller = Poller(backend: backend, capacity: Sys.openFilesLimit())
        final class SignalOwner: PollDispatcher {
            var signals: [CInt] = []
            var poller: Poller<EpollBackend>?
            func dispatch(fd: FD, kind: OwnerKind, owner: UInt32, events: IOEvents) {
                while let s = Sys.readSignal(fd) { signals.append(s) }
                poller?.pollRecv(fd)
            }
        }
        let owner = SignalOwner()
        owner.poller = poller
        poller.register(fd, kind: OwnerKind(rawValue: 3), owner: 0)
        poller.pollRecv(fd)
        poller.runTurn(owner, timeoutMs: 0)
        XCTAssertEqual(raise(SIGUSR2), 0)
        XCTAssertEqual(poller.runTurn(owner, timeoutMs: 10_000), 1)
        XCTAssertEqual(owner.signals, [SIGUSR2])
        poller.delete(fd)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGUSR2)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
