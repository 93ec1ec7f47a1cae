// SPDX-License-Identifier: Apache-2.0
// Listener: one bound, listening socket of a frontend and its accept loop. Accepts at most `tune.maxaccept`
// connections per wakeup, hands each to a new session in the same loop turn, leaves epoll while a connection
// limit is reached (clients wait in the kernel backlog) and pauses on a timer when the process runs out of fds
// or memory instead of spinning.
import SluiceConfig
import SluiceCore
import SluiceTLS

/// A listening socket. Loop-thread only.
final class Listener {
    enum State: Equatable {
        /// In the poller, accepting.
        case ready
        /// Out of epoll until a connection slot frees (global or frontend maxconn).
        case pausedByLimit
        /// Out of epoll until its timer fires (EMFILE/ENFILE/ENOBUFS/ENOMEM).
        case pausedByResources
        /// Out of epoll on SIGTTOU until SIGTTIN.
        case pausedBySignal
        case closed
    }

    let fd: FD
    let address: BindAddress
    var bind: BindConfig
    var frontend: Frontend
    /// `ssl` on the bind line: the context new connections handshake with (a reload may replace it).
    var tlsContext: TLSContext?
    /// Index in Loop.listeners (the poller owner id).
    let index: Int
    var state = State.ready
    let timer: TimerID
    /// The resource-exhaustion error was logged for this pause already.
    var hasLoggedExhaustion = false
    var acceptedCount = 0

    init(fd: FD, address: BindAddress, bind: BindConfig, frontend: Frontend, index: Int, timer: TimerID) {
        self.fd = fd
        self.address = address
        self.bind = bind
        self.frontend = frontend
        self.index = index
        self.timer = timer
    }

    /// Accepts up to `maxAccept` connections. Called when the socket is readable (polled or speculative).
    func acceptBatch(loop: Loop) {
        let poller = loop.poller
        var budget = loop.maxAccept
        while budget > 0 {
            if loop.activeSessions >= loop.maxConnections {
                loop.pauseForGlobalLimit(self)
                return
            }
            if frontend.isFull {
                loop.pauseForFrontendLimit(frontend)
                return
            }
            switch Sys.accept4(fd) {
            case .accepted(let clientFD, let peer):
                budget -= 1
                acceptedCount += 1
                hasLoggedExhaustion = false
                loop.startSession(clientFD: clientFD, peer: peer, listener: self)
            case .wouldBlock:
                poller.pollRecv(fd)
                return
            case .failed(let err):
                if err.isResourceExhaustion {
                    loop.pauseForResources(self, err)
                } else {
                    // Any other error concerns the one connection that failed; the next may succeed.
                    loop.log.admin(.warning, "Proxy \(frontend.name): accept() on \(address) failed: \(err)")
                    poller.pollRecv(fd)
                }
                return
            }
        }
        // Budget spent: stay active so the next turn accepts more after other fds had their share.
    }
}
