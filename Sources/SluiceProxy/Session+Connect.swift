// SPDX-License-Identifier: Apache-2.0
// Session+Connect: the server side's way to an established connection: pick a server (or queue for a slot),
// non-blocking connect, confirm it, and on failure retry per `retries` (same server after a turn-around delay
// of min(1 s, timeout connect), as HAProxy; the last retry goes to another server with `option redispatch`).
import Glibc
import SluiceConfig
import SluiceCore

extension Session {
    /// Picks a server with the backend's algorithm and connects, or queues when every usable server is full,
    /// or gives up when none is usable.
    func assignServerAndConnect() {
        guard let backend else { return }
        switch backend.balancer.pick(backend.servers, client: client, excluding: lastFailedServer) {
        case .server(let s):
            server = s
            s.acquireSlot()
            connectToServer()
        case .queue:
            serverPhase = .queued
            queuedTicks = clock.now
            phaseDeadline = clock.now + backend.queueTimeoutMs
            backend.queue.append(self)
            loop.log.debug("queued for a server slot", "session", index, "queue_length", backend.queue.count)
        case .unavailable:
            backend.deniedConnections += 1
            loop.log.debug("no server available", "session", index)
            noServerAvailable(TerminationState("S", "C"))
        }
    }

    /// Called by the loop when a queued session gets its turn (a slot freed on `s`).
    func dequeued(to s: Server) {
        server = s
        if isHTTP { http.serverName = s.name }
        s.acquireSlot()
        serverPhase = .none
        if isHTTP {
            useConnection(to: s)
        } else {
            connectToServer()
        }
        if isOpen { armTimer() }
    }

    /// The backend queue wait expired: HAProxy answers 503 in HTTP mode; in TCP mode the client is closed.
    func queueTimedOut() {
        backend?.queue.remove(self)
        backend?.deniedConnections += 1
        noServerAvailable(TerminationState("s", "Q"))
    }

    /// No server will serve this session: 503 in HTTP mode, a close in TCP mode.
    func noServerAvailable(_ state: TerminationState) {
        if isHTTP {
            respondWithError(503, state)
        } else {
            abort(state)
        }
    }

    /// Opens a non-blocking connection to `server`. Registers the fd as new with send active so that the
    /// connection is completed (and pending request bytes sent) in the same loop turn when the kernel allows.
    func connectToServer() {
        guard let server else { return }
        connectAttempts += 1
        server.stats.connects &+= 1
        backend?.stats.connects &+= 1
        let now = clock.now
        connectStartTicks = now
        serverActivity = now
        let fd: FD
        do {
            fd = try Sys.socket(domain: server.endpoint.socketDomain, type: Sys.streamSocket)
        } catch {
            // Out of descriptors or memory: stop accepting clients that could not be served either, and retry
            // this one like a failed connection (HAProxy's SF_ERR_RESOURCE), after the turn-around delay.
            loop.resourceAlert("Proxy \(backend!.name): cannot create a socket for server \(server.name): \(error)")
            if error.isResourceExhaustion { loop.pauseAllListenersForResources(error) }
            connectFailed(error)
            return
        }
        // Small writes are sent at once; batching is decided by what the proxy has to send, not by Nagle.
        try? Sys.setsockopt(fd, level: CInt(IPPROTO_TCP), option: TCP_NODELAY, value: 1)
        let result = Sys.connect(fd, to: server.endpoint)
        serverFD = fd
        connectedServer = server
        serverReadClosed = false
        serverWriteClosed = false
        serverEstablished = false
        loop.poller.register(fd, kind: .server, owner: UInt32(index))
        loop.log.debug("connect", "session", index, "fd", Int(fd.rawValue), "attempt", connectAttempts)
        switch result {
        case .connected:
            serverConnected()
        case .inProgress:
            serverPhase = .connecting
            phaseDeadline = now + backend!.connectTimeoutMs
            poller.wantSend(fd)
        case .failed(let err):
            connectFailed(err)
        }
    }

    /// The connection is established: read from the server when the kernel says so (a response is rarely
    /// there at once), and flush whatever the client already sent.
    func serverConnected() {
        markServerConnected()
        guard isOpen, !serverWaits.isHandshaking else { return }
        if isHTTP {
            sendToServerHTTP()
            return
        }
        if request.isAllocated && !request.isEmpty {
            sendToServer()
        } else {
            poller.stopSend(serverFD)
            if clientReadClosed && !serverWriteClosed {
                Sys.shutdownWrite(serverFD)
                serverWriteClosed = true
            }
        }
    }

    /// Records that the server connection is established (the first send or receive proved it, or a probe).
    func markServerConnected() {
        serverPhase = .connected
        serverEstablished = true
        connectedTicks = clock.now
        serverActivity = clock.now
        lastFailedServer = nil
        connectedServer?.observedConnection()  // observe layer4
        if !serverReadClosed { poller.pollRecv(serverFD) }
        armTimer()
        if let s = connectedServer, let context = s.tlsContext, serverTLS == nil {
            // Until the handshake is done the connection is still being established, as in HAProxy: it is bounded
            // by `timeout connect` and a failure is a connect failure (retries, then 503).
            serverEstablished = false
            phaseDeadline = clock.now + (backend?.connectTimeoutMs ?? 5000)
            armTimer()
            guard startServerTLS(context, serverName: serverNameIndication(for: s), slot: s.tlsSessions) else {
                connectFailed(Errno(rawValue: 71))
                return
            }
            if stepServerHandshake() { serverHandshakeDone() }
        }
    }

    /// The SNI to send to `server` (`sni` on the server line), if any: a constant, the value computed for this
    /// request (mode http), or computed now from the connection (mode tcp: `ssl_fc_sni`, `req.ssl_sni`, `src`...).
    func serverNameIndication(for server: Server) -> String? {
        guard let fetch = server.sniFetch else { return server.sniName }
        if isHTTP { return http.serverNameIndication }
        var ctx = SampleContext(session: self)
        return fetch.firstString(&ctx)
    }

    /// The TLS handshake with the server completed: what waited for it goes now.
    func serverHandshakeDone() {
        guard isOpen else { return }
        serverEstablished = true
        poller.pollRecv(serverFD)
        if isHTTP {
            sendToServerHTTP()
        } else if request.isAllocated && !request.isEmpty {
            sendToServer()
        } else if clientReadClosed && !serverWriteClosed {
            Sys.shutdownWrite(serverFD)
            serverWriteClosed = true
        }
    }

    /// Writability (or an error) on a connecting socket with nothing to send: probe with a second connect(),
    /// which costs no more than SO_ERROR and also tells "still in progress" apart.
    func probeConnection() {
        guard let target = connectedServer ?? server else { return }
        switch Sys.connect(serverFD, to: target.endpoint) {
        case .connected:
            serverConnected()
        case .inProgress:
            poller.pollSend(serverFD)
        case .failed(let err):
            connectFailed(err)
        }
    }

    /// A connection attempt failed (refused, unreachable, timed out) before carrying any data. Retries the same
    /// server after the turn-around delay, or another one on the last retry with `option redispatch`; without
    /// retries left the client is closed.
    func connectFailed(_ err: Errno) {
        guard let backend else { return }
        let failed = server
        failed?.failedConnects += 1
        if let failed, !err.isResourceExhaustion { loop.observeServerError(failed) }  // observe layer4
        loop.log.debug("connect failed", "session", index, "errno", Int(err.rawValue), "retries_left", retriesLeft)
        if serverFD.isValid {
            loop.poller.delete(serverFD)
            serverFD = .invalid
            connectedServer = nil
        }
        serverTLS = nil
        guard retriesLeft > 0 else {
            closeServerConnection()
            noServerAvailable(TerminationState(err == .timedOut ? "s" : err.isResourceExhaustion ? "R" : "S", "C"))
            return
        }
        retriesLeft -= 1
        let isLastRetry = retriesLeft == 0
        let redispatches = backend.config.redispatch && isLastRetry
        failed?.stats.retries &+= redispatches ? 0 : 1
        failed?.stats.redispatches &+= redispatches ? 1 : 0
        backend.stats.retries &+= redispatches ? 0 : 1
        backend.stats.redispatches &+= redispatches ? 1 : 0
        if backend.config.redispatch && isLastRetry {
            // Redispatch: give the slot back and let the balancer choose, avoiding the server that failed.
            lastFailedServer = failed
            closeServerConnection()
            serverPhase = .none
            if isHTTP { assignServerForRequest() } else { assignServerAndConnect() }
            if isOpen { armTimer() }
            return
        }
        if err == .timedOut {
            connectToServer()
        } else {
            // The server refused: trying again at once would most likely fail the same way.
            serverPhase = .retryWait
            phaseDeadline = clock.now + min(1000, backend.connectTimeoutMs)
        }
        if isOpen { armTimer() }
    }

    /// The turn-around delay is over: connect to the same server again.
    func retryNow() {
        serverPhase = .none
        connectToServer()
        if isOpen { armTimer() }
    }
}
