// SPDX-License-Identifier: Apache-2.0
// Session+Forwarding: the TCP-mode pumps. Bytes move client -> request buffer -> server and server -> response
// buffer -> client. Each receive is followed at once by a speculative send to the other side; EAGAIN turns into
// polling; a full buffer stops reading until the other side drains it; a buffer that drains goes back to the
// pool. A FIN is passed on (shutdown(SHUT_WR)) once the bytes before it are delivered; the session ends when
// both directions are finished.
import SluiceCore

extension Session {
    // MARK: events

    /// The client fd is readable and/or writable.
    func clientEvent(_ incoming: IOEvents) {
        var events = incoming
        if clientTLS != nil {
            if clientWaits.isHandshaking {
                guard stepClientHandshake() else { return }
                // The first request often arrives with the handshake's last flight.
                events = [.readable]
                poller.wantRecv(clientFD)
                if !isHTTP && backend == nil && !isInspecting {
                    var ctx = SampleContext(session: self)
                    routeTCPConnection(&ctx)
                    guard isOpen else { return }
                }
            }
            // A TLS read may wait for writability and a write for readability.
            if clientWaits.readNeedsWritable && events.contains(.writable) { events.insert(.readable) }
            if clientWaits.writeNeedsReadable && events.contains(.readable) { events.insert(.writable) }
        }
        if isDraining {
            drainClient()
            return
        }
        if isHTTP {
            if events.contains(.readable) { receiveFromClientHTTP() }
            if isOpen && events.contains(.writable) { sendToClientHTTP() }
            return
        }
        if events.contains(.readable) { receiveFromClient() }
        if isOpen && events.contains(.writable) { sendToClient() }
    }

    /// The server fd is readable and/or writable.
    func serverEvent(_ incoming: IOEvents) {
        var events = incoming
        if serverTLS != nil {
            if serverWaits.isHandshaking {
                guard stepServerHandshake() else { return }
                serverHandshakeDone()
                return
            }
            if serverWaits.readNeedsWritable && events.contains(.writable) { events.insert(.readable) }
            if serverWaits.writeNeedsReadable && events.contains(.readable) { events.insert(.writable) }
        }
        if isHTTP {
            if serverPhase == .connecting {
                // Over TLS the connection is confirmed first (probe), then the handshake runs.
                if http.requestSendable > 0 && connectedServer?.tlsContext == nil { sendToServerHTTP() } else { probeConnection() }
                guard isOpen, serverPhase == .connected, !serverWaits.isHandshaking else { return }
            }
            if events.contains(.readable) { receiveFromServerHTTP() }
            if isOpen && serverFD.isValid && events.contains(.writable) { sendToServerHTTP() }
            return
        }
        if serverPhase == .connecting {
            if request.isAllocated && !request.isEmpty && connectedServer?.tlsContext == nil {
                sendToServer()  // success proves the connection; an error is a connect failure
            } else {
                probeConnection()
            }
            guard isOpen, serverPhase == .connected, !serverWaits.isHandshaking else { return }
            if events.contains(.readable) { receiveFromServer() }
            return
        }
        if events.contains(.readable) { receiveFromServer() }
        if isOpen && events.contains(.writable) { sendToServer() }
    }

    // MARK: client -> server

    /// Reads from the client into the request buffer, then forwards.
    func receiveFromClient() {
        if isInspecting {
            receiveForInspection()
            return
        }
        guard !clientReadClosed else {
            poller.stopRecv(clientFD)
            return
        }
        pool.attach(&request)
        request.compactIfUseful()
        let room = request.freeSpace
        if room == 0 {
            poller.stopRecv(clientFD)
            return
        }
        switch clientRecv(request.writable) {
        case .processed(let n):
            request.produced(n)
            bytesFromClient += n
            clientActivity = clock.now
            // A short read means the socket is drained: poll instead of paying for a recv that says EAGAIN.
            if n < room { clientRecvShort() } else { poller.stopRecv(clientFD) }
            forwardRequest()
        case .wouldBlock:
            clientRecvBlocked()
            pool.detach(&request)
        case .eof:
            clientReadClosed = true
            clientActivity = clock.now
            poller.stopRecv(clientFD)
            forwardRequest()
            if isOpen { armTimer() }
        case .failed:
            abort(TerminationState("C", serverPhase == .connected ? "D" : "C"))
        }
    }

    /// Sends pending request bytes if the server side can take them; passes the client's FIN on once the
    /// buffer is empty.
    func forwardRequest() {
        switch serverPhase {
        case .connected, .connecting:
            sendToServer()
        default:
            // Queued or waiting to retry: keep the bytes; the connect will flush them.
            break
        }
    }

    /// Writes the request buffer to the server.
    func sendToServer() {
        if request.isAllocated && !request.isEmpty {
            let pending = request.count
            switch serverSend(request.readable) {
            case .processed(let n):
                request.consumed(n)
                serverActivity = clock.now
                if serverPhase == .connecting { markServerConnected() }
                if n < pending {
                    serverSendBlocked()
                } else {
                    poller.stopSend(serverFD)
                    pool.detach(&request)
                }
                // Room again: the client may send more.
                if !clientReadClosed && !poller.isRecvEnabled(clientFD) { poller.wantRecv(clientFD) }
            case .wouldBlock:
                serverSendBlocked()
                return
            case .failed(let err):
                if !serverEstablished {
                    connectFailed(err)
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
        if serverPhase == .connected && clientReadClosed && request.isEmpty && !serverWriteClosed {
            Sys.shutdownWrite(serverFD)
            serverWriteClosed = true
            finishIfDone()
        }
    }

    // MARK: server -> client

    /// Reads from the server into the response buffer, then forwards.
    func receiveFromServer() {
        guard !serverReadClosed else {
            poller.stopRecv(serverFD)
            return
        }
        pool.attach(&response)
        response.compactIfUseful()
        let room = response.freeSpace
        if room == 0 {
            poller.stopRecv(serverFD)
            return
        }
        switch serverRecv(response.writable) {
        case .processed(let n):
            response.produced(n)
            bytesFromServer += n
            serverActivity = clock.now
            if serverPhase == .connecting { markServerConnected() }
            if n < room { serverRecvShort() } else { poller.stopRecv(serverFD) }
            sendToClient()
        case .wouldBlock:
            serverRecvBlocked()
            pool.detach(&response)
        case .eof:
            serverReadClosed = true
            serverActivity = clock.now
            poller.stopRecv(serverFD)
            sendToClient()
            if isOpen { armTimer() }
        case .failed(let err):
            if !serverEstablished {
                connectFailed(err)
            } else {
                abort(TerminationState("S", "D"))
            }
        }
    }

    /// Writes the response buffer to the client; passes the server's FIN on once it is empty.
    func sendToClient() {
        if response.isAllocated && !response.isEmpty {
            let pending = response.count
            switch clientSend(response.readable) {
            case .processed(let n):
                response.consumed(n)
                clientActivity = clock.now
                if n < pending {
                    clientSendBlocked()
                } else {
                    poller.stopSend(clientFD)
                    pool.detach(&response)
                }
                if !serverReadClosed && serverFD.isValid && serverPhase == .connected
                    && !poller.isRecvEnabled(serverFD)
                {
                    poller.wantRecv(serverFD)
                }
            case .wouldBlock:
                clientSendBlocked()
                return
            case .failed:
                abort(TerminationState("C", "D"))
                return
            case .eof:
                return
            }
        } else {
            poller.stopSend(clientFD)
        }
        if serverReadClosed && response.isEmpty && !clientWriteClosed {
            Sys.shutdownWrite(clientFD)
            clientWriteClosed = true
            finishIfDone()
        }
    }

    /// Ends the session once both directions delivered their FIN.
    func finishIfDone() {
        guard isOpen else { return }
        if clientReadClosed && serverWriteClosed && serverReadClosed && clientWriteClosed {
            close()
        } else {
            armTimer()
        }
    }
}
