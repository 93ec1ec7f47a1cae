// SPDX-License-Identifier: Apache-2.0
// Session+Transport: the two transports under each side of a session, raw socket or TLS (HAProxy's xprt_ops).
// The pumps call recv/send through here and tell it when they are blocked; for TLS that means remembering which
// direction an operation waits on (a read can need the socket writable, a write readable), keeping a read
// active while OpenSSL holds plaintext the kernel will never report, and stepping the handshake first.
import SluiceCore
import SluiceTLS

/// Which direction a TLS operation is waiting on.
struct TLSWaits {
    /// The last read wanted the socket writable (renegotiation-like record exchange).
    var readNeedsWritable = false
    /// The last write wanted the socket readable.
    var writeNeedsReadable = false
    /// The handshake is still running.
    var isHandshaking = false
    /// The peer ended with an EOF that was not a close_notify.
    var wasTruncated = false
}

extension Session {
    // MARK: client side

    @inline(__always)
    func clientRecv(_ buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        guard let tls = clientTLS else { return Sys.recv(clientFD, into: buffer) }
        return tlsRead(tls, buffer, &clientWaits)
    }

    @inline(__always)
    func clientSend(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        guard let tls = clientTLS else { return Sys.send(clientFD, from: bytes) }
        return tlsWrite(tls, bytes, &clientWaits)
    }

    /// clientRecv answered `.wouldBlock`: wait for whatever the transport needs.
    func clientRecvBlocked() {
        if clientTLS != nil && clientWaits.readNeedsWritable {
            poller.stopRecv(clientFD)
            poller.pollSend(clientFD)
        } else {
            poller.pollRecv(clientFD)
        }
    }

    /// clientRecv returned fewer bytes than there was room for: the socket is probably drained, so poll;
    /// unless OpenSSL holds decrypted bytes, which no socket event would ever announce: stay active then.
    func clientRecvShort() {
        if let tls = clientTLS, tls.hasPendingPlaintext {
            poller.wantRecv(clientFD)
        } else {
            poller.pollRecv(clientFD)
        }
    }

    /// clientSend answered `.wouldBlock` (or wrote part): wait for whatever the transport needs.
    func clientSendBlocked() {
        if clientTLS != nil && clientWaits.writeNeedsReadable {
            poller.pollRecv(clientFD)
        } else {
            poller.pollSend(clientFD)
        }
    }

    // MARK: server side

    @inline(__always)
    func serverRecv(_ buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        guard let tls = serverTLS else { return Sys.recv(serverFD, into: buffer) }
        return tlsRead(tls, buffer, &serverWaits)
    }

    @inline(__always)
    func serverSend(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        guard let tls = serverTLS else { return Sys.send(serverFD, from: bytes) }
        return tlsWrite(tls, bytes, &serverWaits)
    }

    func serverRecvBlocked() {
        if serverTLS != nil && serverWaits.readNeedsWritable {
            poller.stopRecv(serverFD)
            poller.pollSend(serverFD)
        } else {
            poller.pollRecv(serverFD)
        }
    }

    func serverRecvShort() {
        if let tls = serverTLS, tls.hasPendingPlaintext {
            poller.wantRecv(serverFD)
        } else {
            poller.pollRecv(serverFD)
        }
    }

    func serverSendBlocked() {
        if serverTLS != nil && serverWaits.writeNeedsReadable {
            poller.pollRecv(serverFD)
        } else {
            poller.pollSend(serverFD)
        }
    }

    // MARK: TLS mapping

    /// Maps a TLS read to IOResult; WANT_* become `.wouldBlock` with the direction remembered.
    @inline(never)
    private func tlsRead(_ tls: TLSConnection, _ buffer: UnsafeMutableRawBufferPointer, _ waits: inout TLSWaits)
        -> IOResult
    {
        waits.readNeedsWritable = false
        switch tls.read(into: buffer) {
        case .processed(let n): return .processed(n)
        case .wantRead: return .wouldBlock
        case .wantWrite:
            waits.readNeedsWritable = true
            return .wouldBlock
        case .closed: return .eof
        case .truncated:
            waits.wasTruncated = true
            return .eof
        case .failed(let error):
            logTLSFailure(error)
            return .failed(error.systemError ?? Errno(rawValue: 71))  // EPROTO
        }
    }

    @inline(never)
    private func tlsWrite(_ tls: TLSConnection, _ bytes: UnsafeRawBufferPointer, _ waits: inout TLSWaits) -> IOResult {
        waits.writeNeedsReadable = false
        switch tls.write(from: bytes) {
        case .processed(let n): return .processed(n)
        case .wantWrite: return .wouldBlock
        case .wantRead:
            waits.writeNeedsReadable = true
            return .wouldBlock
        case .closed, .truncated: return .failed(.brokenPipe)
        case .failed(let error):
            logTLSFailure(error)
            return .failed(error.systemError ?? Errno(rawValue: 71))
        }
    }

    @inline(never)
    func logTLSFailure(_ error: TLSError) {
        loop.log.admin(.info, "\(client) -> \(frontend.name): TLS error: \(error.message)")
    }
}
