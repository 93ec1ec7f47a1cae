// SPDX-License-Identifier: Apache-2.0
// Session+HTTPExchange: the life of one HTTP exchange around the pumps: choosing a server connection per request
// (the session's own kept connection, an idle one per `http-reuse`, or a new one), sending the request, answering
// locally (errors, rules), finishing (log, connection reuse, keep-alive or close) and the draining close that
// keeps an error response from being destroyed by a reset.
import Glibc
import SluiceCore
import SluiceHTTP
import SluiceTLS

extension Session {
    // MARK: server connection per request

    /// Picks a server for the request (load balancing is per request, also on a keep-alive connection) and gets
    /// a connection to it: the session's kept one if it is to that server, else an idle one when `http-reuse`
    /// allows, else a new one. Queues when every usable server is full.
    func assignServerForRequest() {
        guard let backend else { return }
        switch backend.balancer.pick(backend.servers, client: client, hashKey: http.uriHash, excluding: lastFailedServer) {
        case .server(let s):
            server = s
            http.serverName = s.name
            s.acquireSlot()
            useConnection(to: s)
        case .queue:
            serverPhase = .queued
            queuedTicks = clock.now
            phaseDeadline = clock.now + backend.queueTimeoutMs
            backend.queue.append(self)
            armTimer()
        case .unavailable:
            backend.deniedConnections += 1
            respondWithError(503, TerminationState("S", "C"))
        }
    }

    /// Sends the request over a connection to `target`, reusing what can be reused.
    func useConnection(to target: Server) {
        if serverFD.isValid {
            if connectedServer === target && serverPhase == .connected && !serverReadClosed
                && (target.sniFetch == nil || serverTLS?.serverName == http.serverNameIndication)
            {
                loop.log.debug("reuse own server connection", "session", index, "fd", Int(serverFD.rawValue))
                countReuse(of: target)
                startSendingRequest()
                return
            }
            // Kept between exchanges, so nothing is in flight on it (the new request's phases are already set).
            parkOrCloseServerConnection(betweenExchanges: true)
        }
        let reuse = backend?.reuse ?? .safe
        if reuse == .always || (reuse == .safe && http.requestCount > 1),
            let (fd, tls) = loop.takeIdleConnection(to: target, serverName: http.serverNameIndication)
        {
            serverFD = fd
            serverTLS = tls
            serverWaits = TLSWaits()
            connectedServer = target
            serverPhase = .connected
            serverEstablished = true
            serverReadClosed = false
            serverWriteClosed = false
            connectedTicks = clock.now
            loop.poller.changeOwner(fd, kind: .server, owner: UInt32(index))
            poller.pollRecv(fd)
            loop.log.debug("reuse idle server connection", "session", index, "fd", Int(fd.rawValue))
            countReuse(of: target)
            startSendingRequest()
            return
        }
        connectToServer()
    }

    /// The stats' `reuse` column of the server and its backend.
    private func countReuse(of target: Server) {
        target.stats.reuses &+= 1
        backend?.stats.reuses &+= 1
    }

    /// Starts sending the request on an established connection.
    private func startSendingRequest() {
        serverActivity = clock.now
        sendToServerHTTP()
        if isOpen { armTimer() }
    }

    /// Writes the sendable part of the request buffer to the server.
    func sendToServerHTTP() {
        guard serverFD.isValid, serverPhase == .connected || serverPhase == .connecting, !serverWaits.isHandshaking
        else { return }
        let pending = http.requestSendable
        if pending > 0 {
            let bytes = UnsafeRawBufferPointer(rebasing: request.readable.prefix(pending))
            switch serverSend(bytes) {
            case .processed(let n):
                request.consumed(n)
                http.requestSendable -= n
                serverActivity = clock.now
                if serverPhase == .connecting { markServerConnected() }
                if n < pending {
                    serverSendBlocked()
                    return
                }
                poller.stopSend(serverFD)
                if request.isEmpty { pool.detach(&request) }
                if http.requestPhase == .forwardingBody && !clientReadClosed && !poller.isRecvEnabled(clientFD) {
                    poller.wantRecv(clientFD)  // room again for the rest of the body
                }
            case .wouldBlock:
                serverSendBlocked()
                return
            case .failed(let err):
                if !serverEstablished {
                    connectFailed(err)
                } else if http.responseBytes == 0 && http.responsePhase == .awaitingHead {
                    respondWithError(502, TerminationState("S", "H"))
                } else {
                    abort(TerminationState("S", "D"))
                }
                return
            case .eof:
                return
            }
        } else {
            poller.stopSend(serverFD)
        }
        if http.requestPhase == .done && http.requestSendable == 0 && http.requestSentTicks < 0 {
            http.requestSentTicks = clock.now
            armTimer()
        }
    }

    /// The response is complete on the server side: keep the connection for the next request when it can be
    /// reused, else close it. The server slot is freed either way (maxconn counts requests in progress).
    func releaseServerConnection(reusable: Bool) {
        if let s = server {
            server = nil
            releaseServerSlot(s)
        }
        guard serverFD.isValid else { return }
        if reusable && !serverReadClosed && serverPhase == .connected {
            // Kept attached to this session: polled for reading so a server-side close is noticed.
            poller.stopSend(serverFD)
            poller.pollRecv(serverFD)
            return
        }
        dropIdleServerConnection()
    }

    /// Closes the server connection between exchanges and forgets it (the next request connects anew): it may
    /// not be reused, or it reported data or a close while idle.
    func dropIdleServerConnection() {
        guard serverFD.isValid else { return }
        loop.poller.delete(serverFD)
        serverFD = .invalid
        connectedServer = nil
        serverTLS = nil
        serverPhase = .none
        serverReadClosed = false
        serverWriteClosed = false
    }

    /// The session's kept connection goes to its server's idle pool (when `http-reuse` is not `never`) or closes.
    /// A connection with a response in flight always closes; `betweenExchanges` says the caller knows there is
    /// none although `http` already describes the next request.
    func parkOrCloseServerConnection(betweenExchanges: Bool = false) {
        guard serverFD.isValid else { return }
        if let s = connectedServer, serverPhase == .connected, !serverReadClosed, backend?.reuse != .never,
            betweenExchanges || http.responsePhase == .idle || http.responsePhase == .done,
            loop.parkIdleConnection(serverFD, to: s, tls: serverTLS)
        {
            serverFD = .invalid
            connectedServer = nil
            serverTLS = nil
            serverPhase = .none
            return
        }
        dropIdleServerConnection()
    }

    // MARK: answering locally

    /// Answers with the proxy's message for `status` (its errorfile, or HAProxy's text) and closes after it.
    func respondWithError(_ status: Int, _ state: TerminationState) {
        let errors = backend?.errors ?? frontend.errors
        http.status = status
        if state.phase == UInt8(ascii: "R") && (status == 400 || status == 408) { frontend.stats.requestErrors &+= 1 }
        errors.message(for: status).withUnsafeBytes { respondLocally($0, state, keepAlive: false) }
    }

    /// Answers with `message` instead of (or in the middle of) forwarding. Whatever the server side was doing
    /// stops. With `keepAlive` the client connection continues after it, else it closes (draining first).
    func respondLocally(_ message: UnsafeRawBufferPointer, _ state: TerminationState, keepAlive: Bool) {
        if termination.cause == UInt8(ascii: "-") { termination = state }
        if http.responseBytes > 0 {
            // Part of a response already went out: nothing coherent can be added. Close.
            abort(state)
            return
        }
        if isQueued { backend?.queue.remove(self) }
        if serverPhase == .queued || serverPhase == .retryWait { serverPhase = .none }
        releaseServerConnection(reusable: false)
        if http.status == 0 { http.status = Self.statusCode(of: message) }
        http.isLocalResponse = true
        http.clientKeepAlive = keepAlive && http.clientKeepAlive
        http.requestPhase = keepAlive ? http.requestPhase : .done
        http.responsePhase = .done
        pool.detach(&response, force: true)
        pool.attach(&response)
        let n = min(message.count, Int(response.capacity))
        response.writable.copyMemory(from: UnsafeRawBufferPointer(rebasing: message.prefix(n)))
        response.produced(n)
        http.responseSendable = n
        sendToClientHTTP()
    }

    /// The status code in a prebuilt response's status line (for the log).
    static func statusCode(of message: UnsafeRawBufferPointer) -> Int {
        guard message.count >= 12 else { return 0 }
        var code = 0
        for i in 9..<12 {
            let d = Int(message[i]) - 48
            guard d >= 0 && d <= 9 else { return 0 }
            code = code * 10 + d
        }
        return code
    }

    // MARK: end of an exchange

    /// The whole response reached the client: log, then either wait for the next request or close.
    func finishExchange() {
        if frontend.logsConnections { logHTTPRequest() }
        countExchange()
        pool.detach(&capture, force: true)
        if let s = server {
            server = nil
            releaseServerSlot(s)
        }
        // Without keep-alive, or when the request was not fully read (an early answer: the connection cannot be
        // resynchronised), the connection closes.
        guard http.clientKeepAlive, !clientReadClosed, http.requestPhase == .done else {
            closeAfterResponse()
            return
        }
        // Keep-alive: the next request starts now (pipelined bytes may already be here).
        if serverFD.isValid && (serverPhase != .connected || serverReadClosed) { dropIdleServerConnection() }
        termination = .normal
        lastFailedServer = nil
        http.resetForNextRequest(now: clock.now)
        let wall = Sys.wallClock()
        acceptWallSeconds = wall.seconds
        acceptWallMillis = wall.microseconds / 1000
        acceptTicks = clock.now
        connectStartTicks = 0
        connectedTicks = -1
        queuedTicks = 0
        connectAttempts = 0
        bytesFromServer = 0
        if request.isAllocated && !request.isEmpty {
            processClientInput()
        } else {
            pool.detach(&request)
            if !clientReadClosed { poller.pollRecv(clientFD) }
        }
        if isOpen { armTimer() }
    }

    /// Closes the client connection once a response is out. If the client may still be sending (a request body
    /// we did not read, pipelined requests), a plain close() would send a reset that can destroy the response
    /// in flight; so: shut down writing, discard input until the client closes or a short delay passes.
    func closeAfterResponse() {
        guard !clientReadClosed, http.requestPhase != .done || (request.isAllocated && !request.isEmpty) else {
            close()
            return
        }
        releaseServerConnection(reusable: false)
        Sys.shutdownWrite(clientFD)
        clientWriteClosed = true
        isDraining = true
        pool.detach(&request, force: true)
        poller.stopSend(clientFD)
        poller.wantRecv(clientFD)
        phaseDeadline = clock.now + 2000
        armTimer()
    }

    /// Reads and discards client input while draining; closes at EOF.
    func drainClient() {
        var sink: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        while true {
            let result = withUnsafeMutableBytes(of: &sink) { clientRecv($0) }
            switch result {
            case .processed:
                continue
            case .wouldBlock:
                clientRecvBlocked()
                return
            case .eof, .failed:
                close()
                return
            }
        }
    }

    /// Moves the session's accounting to another frontend (a reload replaced the one it started on).
    func switchFrontend(to next: Frontend) {
        frontend.currentConnections -= 1
        next.currentConnections += 1
        next.totalConnections += 1
        frontend = next
    }

    /// Keeps the request line for the access log (only when the frontend logs).
    func captureRequestLine(_ head: HTTPHead) {
        guard frontend.logsConnections else { return }
        pool.attach(&capture)
        capture.consumed(capture.count)
        let start = Int(head.methodRange.start)
        let bytes = request.readable
        // The request line ends where the version ends: method SP target SP HTTP/x.y
        let end = min(Int(head.target.end) + 9, bytes.count)
        let n = min(end - start, capture.freeSpace)
        capture.writable.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + n)]))
        capture.produced(n)
    }
}
