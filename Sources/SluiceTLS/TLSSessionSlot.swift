// SPDX-License-Identifier: Apache-2.0
// TLSSessionSlot: the client-side session cache for one server, one session deep. The proxy keeps one per
// `server ... ssl`; a connection to that server offers the saved session and saves the ones the server sends.
// Owns one reference to an SSL_SESSION; loop thread only.
internal import CSluiceSSL

/// The latest resumable TLS session of one server (client side). Create one per server and pass it to every
/// `TLSConnection` to that server; it is filled by OpenSSL's new-session callback (at the end of a TLS 1.2
/// handshake, or when a TLS 1.3 ticket arrives, which happens inside a `read` after the handshake). Used only
/// with a client `TLSContext` whose options allow resumption (`sessionTickets` or `sessionCacheSize > 0`).
public final class TLSSessionSlot {
    /// One SSL_SESSION reference, owned; nil when empty.
    private(set) var session: OpaquePointer?
    /// The SNI the saved session was negotiated under: a session is only offered again under the same name
    /// (with a per-request `sni`, the next connection may be to another virtual host of the same server).
    private(set) var serverName: String?

    /// An empty slot.
    public init() {}

    deinit {
        if let session { SSL_SESSION_free(session) }
    }

    /// True when a session is saved (the next connection will offer it).
    public var hasSession: Bool { session != nil }

    /// Forgets the saved session (e.g. after the server's address or settings changed).
    public func clear() {
        if let session { SSL_SESSION_free(session) }
        session = nil
        serverName = nil
    }

    /// Takes over one reference to `newSession` (negotiated under `name`), dropping the previous one.
    func store(_ newSession: OpaquePointer, serverName name: String?) {
        if let session { SSL_SESSION_free(session) }
        session = newSession
        serverName = name
    }

    /// The saved session when it was negotiated under `name`.
    func session(for name: String?) -> OpaquePointer? {
        serverName == name ? session : nil
    }
}

@available(*, unavailable)
extension TLSSessionSlot: Sendable {}
