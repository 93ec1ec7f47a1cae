// SPDX-License-Identifier: Apache-2.0
// AdminSocket: the `stats socket` listeners and their connections, speaking HAProxy's CLI protocol through the
// poller. A connection reads lines (commands separated by `;`), answers each command followed by an empty line,
// and closes once its input is used up, unless `prompt` made it interactive (`> ` after each answer; it then
// stays until `quit`, EOF or `stats timeout`). Answers are queued whole and written as the socket accepts them.
// A reload keeps the socket of an address that stays (never unlinked and re-bound) and closes removed ones.
import Glibc
import SluiceConfig
import SluiceCore

/// A `stats socket` bound for a runtime, not yet in the poller.
struct BoundAdminSocket {
    let fd: FD
    let config: StatsSocket
    /// On reload: the running listener whose socket is kept.
    let kept: AdminListener?
    let isInherited: Bool
}

/// A listening admin socket. Loop-thread only.
final class AdminListener {
    let fd: FD
    let address: BindAddress
    /// The `stats socket` line (a reload may change its level).
    var config: StatsSocket
    /// Index in Loop.adminListeners (the poller owner id).
    let index: Int
    /// Connections open on this socket; at `maxConnections` it stops accepting until one closes.
    var openConnections = 0
    /// HAProxy's default `maxconn` of a stats socket.
    static let maxConnections = 10

    init(fd: FD, config: StatsSocket, index: Int) {
        self.fd = fd
        self.address = config.address
        self.config = config
        self.index = index
    }
}

/// One CLI connection. Loop-thread only.
final class AdminConnection {
    let fd: FD
    /// Index in Loop.adminConnections (the poller owner id and timer index).
    let slot: Int
    let timer: TimerID
    /// The listener it came from (it counts its connections; kept alive here after a reload removed it).
    let listener: AdminListener
    var context: AdminContext
    /// Received bytes not yet made into a line.
    var input: [UInt8] = []
    /// Answers not yet sent, from `sent` on.
    var output: [UInt8] = []
    var sent = 0
    /// Close once `output` is out.
    var closesAfterOutput = false

    init(fd: FD, slot: Int, timer: TimerID, listener: AdminListener) {
        self.fd = fd
        self.slot = slot
        self.timer = timer
        self.listener = listener
        self.context = AdminContext(level: listener.config.level)
    }
}

extension Runtime {
    /// Binds every `stats socket` of the configuration, taking `existing`'s listener for an address that stays
    /// (reload). On failure everything this runtime opened is closed and the reason returned.
    func bindAdminSockets(existing: (BindAddress) -> AdminListener?) -> String? {
        for socket in config.global.statsSockets {
            if let kept = existing(socket.address) {
                adminSockets.append(BoundAdminSocket(fd: kept.fd, config: socket, kept: kept, isInherited: false))
                continue
            }
            switch Self.openListener(socket.address, backlog: 16) {
            case .success(let (fd, inherited)):
                if case .unix(let path) = socket.address, let mode = socket.mode {
                    _ = chmod(path, mode_t(mode))
                }
                adminSockets.append(BoundAdminSocket(fd: fd, config: socket, kept: nil, isInherited: inherited))
            case .failure(let failure):
                closeOpenedSockets()
                return "Starting stats socket: \(failure.message) [\(socket.address)] (\(socket.location))"
            }
        }
        return nil
    }

    /// Closes the admin sockets `bindAdminSockets` opened itself (kept and inherited ones stay).
    func closeOpenedAdminSockets() {
        for s in adminSockets where s.kept == nil && !s.isInherited {
            Sys.close(s.fd)
            if case .unix(let path) = s.config.address { Runtime.unlinkSocket(path) }
        }
        adminSockets.removeAll()
    }
}

extension Loop {
    // MARK: listeners

    /// Puts the runtime's admin sockets in the poller (kept ones just take the new line) and closes those the
    /// configuration no longer has.
    func installAdminListeners() {
        var kept = Set<ObjectIdentifier>()
        var fresh: [BoundAdminSocket] = []
        for bound in runtime.adminSockets {
            if let l = bound.kept {
                l.config = bound.config
                kept.insert(ObjectIdentifier(l))
            } else {
                fresh.append(bound)
            }
        }
        for case let l? in adminListeners where !kept.contains(ObjectIdentifier(l)) { closeAdminListener(l) }
        for bound in fresh {
            let index = adminListeners.firstIndex(where: { $0 == nil }) ?? adminListeners.count
            let l = AdminListener(fd: bound.fd, config: bound.config, index: index)
            if index == adminListeners.count { adminListeners.append(l) } else { adminListeners[index] = l }
            poller.register(bound.fd, kind: .adminListener, owner: UInt32(index), isShared: bound.isInherited)
            poller.pollRecv(bound.fd)
        }
    }

    private func closeAdminListener(_ l: AdminListener) {
        poller.delete(l.fd)
        if case .unix(let path) = l.address { Runtime.unlinkSocket(path) }
        adminListeners[l.index] = nil
    }

    /// The admin listener `index` is readable: accepts what is pending.
    func acceptAdminConnections(_ index: Int) {
        guard let l = adminListeners[index] else { return }
        for _ in 0..<maxAccept {
            if l.openConnections >= AdminListener.maxConnections {
                poller.stopRecv(l.fd)  // the kernel backlog holds the next clients until a connection closes
                return
            }
            switch Sys.accept4(l.fd) {
            case .accepted(let fd, _):
                startAdminConnection(fd, listener: l)
            case .wouldBlock:
                poller.pollRecv(l.fd)
                return
            case .failed(let err):
                resourceAlert("stats socket \(l.address): accept() failed: \(err)")
                poller.pollRecv(l.fd)
                return
            }
        }
    }

    private func startAdminConnection(_ fd: FD, listener: AdminListener) {
        let slot = adminConnections.firstIndex(where: { $0 == nil }) ?? adminConnections.count
        let timer = timers.allocate(token: TimerKind.adminConnection.token(slot))
        let c = AdminConnection(fd: fd, slot: slot, timer: timer, listener: listener)
        listener.openConnections += 1
        if slot == adminConnections.count { adminConnections.append(c) } else { adminConnections[slot] = c }
        process.adminConnections += 1
        poller.register(fd, kind: .adminConnection, owner: UInt32(slot))
        poller.wantRecv(fd)
        timers.schedule(timer, at: clock.now + Int64(runtime.config.global.statsTimeoutMs))
    }

    private func closeAdminConnection(_ c: AdminConnection) {
        poller.delete(c.fd)
        timers.release(c.timer)
        adminConnections[c.slot] = nil
        let l = c.listener
        l.openConnections -= 1
        if l.openConnections == AdminListener.maxConnections - 1, adminListeners[l.index] === l {
            poller.wantRecv(l.fd)
        }
    }

    // MARK: connections

    /// An event on admin connection `slot`.
    func adminConnectionEvent(_ slot: Int, _ events: IOEvents) {
        guard slot < adminConnections.count, let c = adminConnections[slot] else { return }
        if events.contains(.writable) || c.sent < c.output.count {
            guard flushAdminOutput(c) else { return }
        }
        if events.contains(.readable) || events.contains(.hangup) || events.contains(.error) {
            readAdminInput(c)
        }
    }

    /// `stats timeout` passed without a complete command: the connection closes.
    func adminConnectionTimedOut(_ slot: Int) {
        guard slot < adminConnections.count, let c = adminConnections[slot] else { return }
        closeAdminConnection(c)
    }

    private func readAdminInput(_ c: AdminConnection) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let result = chunk.withUnsafeMutableBytes { Sys.recv(c.fd, into: $0) }
            switch result {
            case .processed(let n):
                c.input.append(contentsOf: chunk[0..<n])
                if c.input.count > runtime.config.global.tune.bufferSize && !c.input.contains(10) {
                    // A line longer than a buffer: HAProxy closes too.
                    closeAdminConnection(c)
                    return
                }
            case .wouldBlock:
                poller.pollRecv(c.fd)
                runAdminLines(c, inputEnded: false)
                return
            case .eof, .failed:
                poller.stopRecv(c.fd)
                runAdminLines(c, inputEnded: true)
                return
            }
        }
    }

    /// Runs every complete line received. Without `prompt`, the connection closes once the input is used up
    /// (lines that arrived together are all answered, as HAProxy does).
    private func runAdminLines(_ c: AdminConnection, inputEnded: Bool) {
        while let newline = c.input.firstIndex(of: 10) {
            var line = c.input[..<newline]
            if line.last == 13 { line = line.dropLast() }
            let text = String(decoding: line, as: UTF8.self)
            c.input.removeSubrange(...newline)
            for words in AdminCommandLine.parse(text) {
                let answer = runAdminCommand(words, &c.context)
                if c.context.wantsClose { break }  // `quit` answers nothing
                c.output.append(contentsOf: answer.utf8)
                c.output.append(10)
            }
            if c.context.wantsClose { break }
            if c.context.isInteractive { c.output.append(contentsOf: "> ".utf8) }
            timers.schedule(c.timer, at: clock.now + Int64(runtime.config.global.statsTimeoutMs))
        }
        if c.context.wantsClose || inputEnded || (!c.context.isInteractive && c.input.isEmpty && !c.output.isEmpty) {
            c.closesAfterOutput = true
        }
        if c.sent < c.output.count {
            _ = flushAdminOutput(c)
        } else if c.closesAfterOutput {
            closeAdminConnection(c)
        }
    }

    /// Sends what is queued; false when the connection was closed.
    private func flushAdminOutput(_ c: AdminConnection) -> Bool {
        while c.sent < c.output.count {
            let result = c.output.withUnsafeBytes {
                Sys.send(c.fd, from: UnsafeRawBufferPointer(rebasing: $0[c.sent...]))
            }
            switch result {
            case .processed(let n):
                c.sent += n
            case .wouldBlock:
                poller.pollSend(c.fd)
                return true
            case .eof, .failed:
                closeAdminConnection(c)
                return false
            }
        }
        c.output.removeAll(keepingCapacity: false)
        c.sent = 0
        poller.stopSend(c.fd)
        if c.closesAfterOutput {
            closeAdminConnection(c)
            return false
        }
        return true
    }
}
