// SPDX-License-Identifier: Apache-2.0
// Session+TLSHandshake: TLS handshakes on either side of a session, driven by the poller like any other I/O:
// WANT_READ polls for reading, WANT_WRITE for writing, and once done the side carries on with its data (a
// client's first request often arrives with the handshake's last flight). A failed handshake is logged and
// closes that connection only (a plaintext client on a TLS port, an unknown CA, a truncated stream...).
import SluiceCore
import SluiceTLS

extension Session {
    /// Starts TLS on the accepted client connection with the listener's context.
    func startClientTLS(_ context: TLSContext) -> Bool {
        do {
            clientTLS = try TLSConnection(context: context, fd: clientFD)
        } catch {
            loop.resourceAlert("Proxy \(frontend.name): cannot start TLS for \(client): \(error.message)")
            return false
        }
        clientWaits = TLSWaits()
        clientWaits.isHandshaking = true
        return true
    }

    /// Advances the client handshake. Returns true when it is complete (data may flow).
    func stepClientHandshake() -> Bool {
        guard let tls = clientTLS else { return true }
        switch tls.handshake() {
        case .done:
            clientWaits.isHandshaking = false
            clientActivity = clock.now
            frontend.stats.countTLSHandshake(succeeded: true, resumed: tls.sessionReused)
            loop.log.debug("client TLS handshake done", "session", index)
            return true
        case .wantRead:
            poller.stopSend(clientFD)
            poller.pollRecv(clientFD)
            return false
        case .wantWrite:
            poller.stopRecv(clientFD)
            poller.pollSend(clientFD)
            return false
        case .failed(let error):
            frontend.stats.countTLSHandshake(succeeded: false, resumed: false)
            loop.log.admin(.info, "\(client) -> \(frontend.name): SSL handshake failure: \(error.message)")
            abort(TerminationState("C", "R"))
            return false
        }
    }

    /// Starts TLS on an established server connection (`server ... ssl`), with SNI and session reuse.
    func startServerTLS(_ context: TLSContext, serverName: String?, slot: TLSSessionSlot?) -> Bool {
        do {
            serverTLS = try TLSConnection(context: context, fd: serverFD, serverName: serverName, sessionSlot: slot)
        } catch {
            loop.resourceAlert("Proxy \(backend?.name ?? "-"): cannot start TLS to a server: \(error.message)")
            return false
        }
        serverWaits = TLSWaits()
        serverWaits.isHandshaking = true
        return true
    }

    /// Advances the server handshake. Returns true when it is complete.
    func stepServerHandshake() -> Bool {
        guard let tls = serverTLS else { return true }
        switch tls.handshake() {
        case .done:
            serverWaits.isHandshaking = false
            serverActivity = clock.now
            countServerTLSHandshake(succeeded: true, resumed: tls.sessionReused)
            return true
        case .wantRead:
            poller.stopSend(serverFD)
            poller.pollRecv(serverFD)
            return false
        case .wantWrite:
            poller.pollSend(serverFD)
            return false
        case .failed(let error):
            countServerTLSHandshake(succeeded: false, resumed: false)
            let name = connectedServer.map { "\(backend?.name ?? "-")/\($0.name)" } ?? "-"
            loop.log.admin(.warning, "TLS handshake with server \(name) failed: \(error.message)")
            serverTLSFailed()
            return false
        }
    }

    /// The stats' ssl_* columns of the server and its backend.
    private func countServerTLSHandshake(succeeded: Bool, resumed: Bool) {
        connectedServer?.stats.countTLSHandshake(succeeded: succeeded, resumed: resumed)
        backend?.stats.countTLSHandshake(succeeded: succeeded, resumed: resumed)
    }

    /// The server's TLS handshake failed: like a failed connection (retries, then 503 / close).
    private func serverTLSFailed() {
        serverTLS = nil
        serverEstablished = false
        connectFailed(Errno(rawValue: 71))  // EPROTO
    }

    /// Sends close_notify (best effort, never blocking) and frees the TLS state of both sides.
    func endTLS() {
        if let tls = clientTLS {
            if !clientWaits.isHandshaking && !clientWaits.wasTruncated && clientFD.isValid { _ = tls.shutdown() }
            clientTLS = nil
        }
        if let tls = serverTLS {
            if !serverWaits.isHandshaking && serverFD.isValid { _ = tls.shutdown() }
            serverTLS = nil
        }
    }
}
