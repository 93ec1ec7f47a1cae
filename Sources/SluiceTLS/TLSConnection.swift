// SPDX-License-Identifier: Apache-2.0
// TLSConnection: one SSL over one non-blocking socket (SSL_set_fd: a WANT_* result means the kernel answered
// EAGAIN). Owns the SSL*, which never leaves this type; keeps its TLSContext alive; does not own the fd (the
// poller closes it). Every I/O call asserts (debug) and clears the error queue, makes the call, saves errno at
// once, maps SSL_get_error, and drains the queue on every failure: control never leaves with errors queued.
// No heap allocation per call: results are enums; Strings are built only on failure paths.
internal import CSluiceSSL
import Glibc
import SluiceCore

/// ex_data slot, on every SSL, holding its TLSConnection unretained: the connection owns the SSL, so the
/// pointer cannot outlive it. Allocated once, on first use.
let connectionExDataIndex: CInt = {
    let index = csluice_SSL_get_ex_new_index()
    precondition(index >= 0, "SSL_get_ex_new_index failed: \(index)")
    return index
}()

/// What a handshake or shutdown step did.
public enum TLSStep: Equatable, Sendable {
    /// Finished.
    case done
    /// The socket read hit EAGAIN: `pollRecv`, and call the same step again when readable.
    case wantRead
    /// The socket write hit EAGAIN: `pollSend`, and call the same step again when writable.
    case wantWrite
    /// The connection is unusable: log the message and close.
    case failed(TLSError)
}

/// What one `read` or `write` did. The owner remembers which operation waits on which direction (a read may
/// want to write, a write may want to read) and retries that operation when the direction is ready.
public enum TLSIOResult: Equatable, Sendable {
    /// This many plaintext bytes were read or written (always > 0).
    case processed(Int)
    /// The socket read hit EAGAIN: `pollRecv`. Retry the same operation when readable (after a write, with the
    /// same bytes).
    case wantRead
    /// The socket write hit EAGAIN: `pollSend`. Retry the same operation when writable (after a write, with the
    /// same bytes, possibly from a moved buffer).
    case wantWrite
    /// The peer sent close_notify: its stream ended cleanly (read side closed; writing is still allowed).
    case closed
    /// The transport ended without close_notify (abrupt EOF). Harmless after a self-delimited message,
    /// a truncation otherwise; the owner decides. No close_notify may be sent afterwards.
    case truncated
    /// The connection is unusable (protocol error, reset, ...): log the message and close.
    case failed(TLSError)
}

/// One TLS connection (an SSL) over a non-blocking socket. Exactly one owner (a session's transport) drives it
/// from the loop thread: `handshake` until `.done`, then `read`/`write`, then `shutdown`. It does not own the
/// socket. SIGPIPE must be ignored by the process: OpenSSL writes with write(2), not send(MSG_NOSIGNAL).
public final class TLSConnection {
    /// Owned: freed in deinit; never handed out.
    let ssl: OpaquePointer
    /// Kept alive for the SSL_CTXs the SSL points to and for the callbacks' ex_data lookups.
    let context: TLSContext
    /// Client side: where new sessions are saved and the offered one came from.
    let sessionSlot: TLSSessionSlot?
    /// Client side: the name sent in SNI (or checked, for an IP literal); nil on the server side.
    public let serverName: String?
    /// A fatal error happened: OpenSSL forbids SSL_shutdown afterwards.
    private var isBroken = false
    /// close_notify was sent (or there is nothing to send): `shutdown` is not called into OpenSSL again.
    private var isShutdownDone = false

    /// Prepares a connection on `fd` (connected, non-blocking; not owned). The side comes from `context`.
    /// Client side only: `serverName` (default: the context's `serverName`) is sent in SNI unless it is an IP
    /// literal, and checked against the server's certificate when the context verifies; `sessionSlot` offers
    /// its saved session and receives new ones (ignored when the context disables resumption). Fails only when
    /// OpenSSL cannot allocate or refuses the name.
    public init(
        context: TLSContext,
        fd: FD,
        serverName: String? = nil,
        sessionSlot: TLSSessionSlot? = nil
    ) throws(TLSError) {
        TLSErrorQueue.assertEmpty(before: "SSL_new")
        guard let ssl = SSL_new(context.defaultContext) else {
            throw TLSError(TLSErrorQueue.message("SSL_new failed"))
        }
        self.ssl = ssl
        self.context = context
        self.sessionSlot = context.isServer || !context.savesSessions ? nil : sessionSlot
        self.serverName = context.isServer ? nil : serverName ?? context.defaultServerName
        // From here on a throw runs deinit, which frees the SSL.
        SSL_set_ex_data(ssl, connectionExDataIndex, Unmanaged.passUnretained(self).toOpaque())
        guard SSL_set_fd(ssl, fd.rawValue) == 1 else {
            throw TLSError(TLSErrorQueue.message("SSL_set_fd failed"))
        }
        if context.isServer {
            SSL_set_accept_state(ssl)
            return
        }
        SSL_set_connect_state(ssl)
        if let name = self.serverName {
            try setServerName(name)
        }
        if let session = self.sessionSlot?.session(for: self.serverName), SSL_set_session(ssl, session) != 1 {
            // A session OpenSSL will not offer (another protocol version): resume nothing, forget it.
            TLSErrorQueue.discard()
            self.sessionSlot?.clear()
        }
    }

    deinit {
        SSL_free(ssl)
    }

    private func setServerName(_ name: String) throws(TLSError) {
        let isIP = Self.isIPLiteral(name)
        if !isIP && csluice_SSL_set_tlsext_host_name(ssl, name) != 1 {
            throw TLSError(TLSErrorQueue.message("invalid server name '\(name)' for SNI"))
        }
        guard context.verify == .required else { return }
        let accepted: Bool
        if isIP {
            accepted = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1
        } else {
            // `*.example.com` matches one whole label, never `w*.example.com` (RFC 6125 6.4.3).
            SSL_set_hostflags(ssl, CUnsignedInt(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            accepted = SSL_set1_host(ssl, name) == 1
        }
        if !accepted {
            throw TLSError(TLSErrorQueue.message("invalid server name '\(name)' for certificate checks"))
        }
    }

    private static func isIPLiteral(_ name: String) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { address in
            inet_pton(AF_INET, name, address.baseAddress) == 1 || inet_pton(AF_INET6, name, address.baseAddress) == 1
        }
    }

    // MARK: I/O (loop thread; no allocation unless failing)

    /// Advances the handshake. `.done` once finished (calling again returns `.done`); WANT_* say which
    /// direction to poll. A failure message names the OpenSSL error and, when the peer's certificate was
    /// rejected, the X509 verify error.
    @inline(never)
    public func handshake() -> TLSStep {
        TLSErrorQueue.assertEmpty(before: "SSL_do_handshake")
        ERR_clear_error()
        errno = 0
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return .done }
        let savedErrno = errno  // before anything else can run
        let code = SSL_get_error(ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        default: return .failed(handshakeFailure(code, savedErrno))
        }
    }

    /// Reads plaintext into `buffer` (not empty). After `.processed`, if `hasPendingPlaintext`, more is
    /// waiting inside OpenSSL that epoll will never report: keep the recv direction active (`wantRecv`).
    @inline(never)
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> TLSIOResult {
        precondition(buffer.count > 0, "TLSConnection.read into an empty buffer")
        TLSErrorQueue.assertEmpty(before: "SSL_read")
        ERR_clear_error()
        errno = 0
        let rc = SSL_read(ssl, buffer.baseAddress, CInt(clamping: buffer.count))
        return ioResult(rc, "SSL_read")
    }

    /// Writes plaintext from `buffer` (not empty). With partial writes on, `.processed(n)` may be less than
    /// `buffer.count` (one record at a time). After a WANT_*, retry with the same bytes.
    @inline(never)
    public func write(from buffer: UnsafeRawBufferPointer) -> TLSIOResult {
        precondition(buffer.count > 0, "TLSConnection.write from an empty buffer")
        TLSErrorQueue.assertEmpty(before: "SSL_write")
        ERR_clear_error()
        errno = 0
        let rc = SSL_write(ssl, buffer.baseAddress, CInt(clamping: buffer.count))
        return ioResult(rc, "SSL_write")
    }

    /// What an SSL_read/SSL_write return value means: bytes done, the direction to wait for, the peer's
    /// close_notify, or a failure. errno is read first, before anything else can change it.
    @inline(__always)
    private func ioResult(_ rc: CInt, _ call: StaticString) -> TLSIOResult {
        if rc > 0 { return .processed(Int(rc)) }
        let savedErrno = errno
        let code = SSL_get_error(ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        default: return failure(code, savedErrno, call)
        }
    }

    /// Sends close_notify without waiting for the peer's (the owner then shuts the socket's write side or
    /// closes). `.wantWrite`: poll and call again. `.done` without sending anything when there is nothing to
    /// say: the handshake never finished, the connection failed or was truncated, or close_notify already went.
    @inline(never)
    public func shutdown() -> TLSStep {
        if isShutdownDone || isBroken || SSL_is_init_finished(ssl) != 1 {
            isShutdownDone = true
            return .done
        }
        TLSErrorQueue.assertEmpty(before: "SSL_shutdown")
        ERR_clear_error()
        errno = 0
        let rc = SSL_shutdown(ssl)
        // 0: close_notify sent, the peer's not yet seen; 1: both. Either way this side is done.
        if rc >= 0 {
            isShutdownDone = true
            return .done
        }
        let savedErrno = errno  // before anything else can run
        let code = SSL_get_error(ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        default:
            isShutdownDone = true
            switch failure(code, savedErrno, "SSL_shutdown") {
            case .failed(let error): return .failed(error)
            default: return .done  // the peer is gone already: nothing left to tell it
            }
        }
    }

    // MARK: failure paths (out of line; build Strings, drain the queue)

    /// Maps a fatal SSL_get_error result; drains the error queue and marks the connection broken.
    @inline(never)
    func failure(_ code: CInt, _ savedErrno: CInt, _ call: StaticString) -> TLSIOResult {
        isBroken = true
        switch code {
        case SSL_ERROR_SYSCALL:
            let drained = TLSErrorQueue.drain().text
            // No errno and nothing queued: the socket read returned 0 (an EOF OpenSSL reports as a syscall).
            if savedErrno == 0 && drained.isEmpty { return .truncated }
            let err = Errno(rawValue: savedErrno)
            let detail = savedErrno != 0 ? err.description : "I/O error"
            let message = drained.isEmpty ? "\(call): \(detail)" : "\(call): \(detail) (\(drained))"
            return .failed(TLSError(message, systemError: savedErrno != 0 ? err : nil))
        case SSL_ERROR_SSL:
            let (text, reason) = TLSErrorQueue.drain()
            // OpenSSL 3 reports EOF without close_notify here (SSL_OP_IGNORE_UNEXPECTED_EOF is off on purpose).
            if reason == SSL_R_UNEXPECTED_EOF_WHILE_READING { return .truncated }
            var message = "\(call): \(text.isEmpty ? "protocol error" : text)"
            if reason == SSL_R_CERTIFICATE_VERIFY_FAILED {
                let result = SSL_get_verify_result(ssl)
                message += " (verify error \(result): \(String(cString: X509_verify_cert_error_string(result))))"
            }
            return .failed(TLSError(message))
        default:
            let drained = TLSErrorQueue.drain().text
            return .failed(TLSError("\(call): unexpected SSL_get_error \(code) \(drained)"))
        }
    }

    @inline(never)
    private func handshakeFailure(_ code: CInt, _ savedErrno: CInt) -> TLSError {
        if code == SSL_ERROR_ZERO_RETURN {
            isBroken = true
            return TLSError("SSL_do_handshake: the peer sent close_notify during the handshake")
        }
        switch failure(code, savedErrno, "SSL_do_handshake") {
        case .failed(let error): return error
        default: return TLSError("SSL_do_handshake: the peer closed the connection during the handshake")
        }
    }

    // MARK: state (for logs, fetches and routing; these build Strings: not for every event)

    /// True when decrypted bytes wait inside OpenSSL (SSL_pending > 0). The socket may be empty, so epoll will
    /// not report them: the owner keeps the recv direction active (event cache) until this is false.
    public var hasPendingPlaintext: Bool { SSL_pending(ssl) > 0 }

    /// True once the handshake finished.
    public var isHandshakeDone: Bool { SSL_is_init_finished(ssl) == 1 }

    /// The negotiated protocol version (`TLSv1.3`), nil before the handshake finished (`ssl_fc_protocol`).
    public var negotiatedProtocol: String? {
        guard isHandshakeDone, let version = SSL_get_version(ssl) else { return nil }
        return String(cString: version)
    }

    /// The ALPN protocol agreed on, nil if none (`ssl_fc_alpn`).
    public var alpnProtocol: String? {
        var data: UnsafePointer<UInt8>? = nil
        var count: CUnsignedInt = 0
        SSL_get0_alpn_selected(ssl, &data, &count)
        guard let data, count > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(count)), as: UTF8.self)
    }

    /// Server side: the name the client sent in SNI; client side: the name this side sent (`ssl_fc_sni`).
    public var serverNameIndication: String? {
        guard let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else { return nil }
        return String(cString: name)
    }

    /// True when the peer presented a certificate (`ssl_c_used` on the server side).
    public var peerCertificatePresented: Bool { SSL_get0_peer_certificate(ssl) != nil }

    /// The peer certificate's subject in OpenSSL's one-line form (`/CN=a.example`), nil without one.
    public var peerSubject: String? {
        guard let certificate = SSL_get0_peer_certificate(ssl), let name = X509_get_subject_name(certificate)
        else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 512) { buffer in
            guard let line = X509_NAME_oneline(name, buffer.baseAddress, CInt(buffer.count)) else { return nil }
            return String(cString: line)
        }
    }

    /// The X509 verification result of the peer's certificate: 0 (X509_V_OK) when it verified or none was
    /// presented (`ssl_c_verify`).
    public var verifyResult: Int { Int(SSL_get_verify_result(ssl)) }

    /// The cipher in use (OpenSSL name, `TLS_AES_256_GCM_SHA384`), nil before the handshake.
    public var cipher: String? {
        guard let current = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_get_name(current) else { return nil }
        return String(cString: name)
    }

    /// True when the handshake resumed a session (ticket or cache) instead of a full handshake.
    public var sessionReused: Bool { SSL_session_reused(ssl) == 1 }
}

@available(*, unavailable)
extension TLSConnection: Sendable {}
