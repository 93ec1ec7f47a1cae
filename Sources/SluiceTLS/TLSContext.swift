// SPDX-License-Identifier: Apache-2.0
// TLSContext: one TLS endpoint configuration (a bind's or a server's) and the SSL_CTXs it owns: one per
// certificate on a server (the SNI callback moves a connection to the right one), exactly one on a client.
// Built while the config loads, the only time SluiceTLS reads files (blocking); immutable afterwards, except the
// session-ticket key ring, which rotates itself on the loop thread. Loop thread only.
internal import CSluiceSSL
import Glibc
import SluiceCore

/// ex_data slot, on every SSL_CTX a TLSContext owns, holding that TLSContext unretained: the TLSContext owns
/// the SSL_CTX and every TLSConnection using it holds the TLSContext, so the pointer never dangles. Allocated
/// once, on first use.
let contextExDataIndex: CInt = {
    let index = csluice_SSL_CTX_get_ex_new_index()
    precondition(index >= 0, "SSL_CTX_get_ex_new_index failed: \(index)")
    return index
}()

/// A configured TLS endpoint: the settings of one `bind ... ssl` (server side) or one `server ... ssl` (client
/// side). Expensive to build (reads and parses files, blocking): build it at config load or during a reload,
/// before the swap, never in the loop. Connections keep it alive.
public final class TLSContext {
    /// One SSL_CTX per certificate; [0] is the default one every connection starts with.
    let contexts: [OpaquePointer]
    /// True for a server context (accepts handshakes), false for a client one.
    public let isServer: Bool
    /// Server: certificate name (lowercase; wildcards as `*.suffix`) → index in `contexts`. First file wins.
    let contextByName: [String: Int]
    let verify: TLSVerify
    /// Client: the default server name (SNI and certificate check).
    let defaultServerName: String?
    /// Server: the ALPN list in wire format (length-prefixed names), kept at a stable address because the
    /// selection callback hands OpenSSL a pointer into it.
    let alpnWire: UnsafeMutableBufferPointer<UInt8>?
    /// Server: the session-ticket keys; nil when tickets are off.
    let ticketKeys: TLSTicketKeys?
    /// Client: sessions are saved into the connection's `TLSSessionSlot`.
    let savesSessions: Bool

    /// Builds a server context. Accepts the options described on `TLSContextOptions`; rejects, with a message
    /// naming the file or the setting: no certificate, a missing or unreadable file, a PEM without a certificate
    /// or an unencrypted key, a key that does not match, a CA file that is missing or holds no certificate,
    /// `verify` without a CA file, cipher/suite/curve strings OpenSSL rejects, bad ALPN names, min above max.
    public static func server(_ options: TLSContextOptions) throws(TLSConfigError) -> TLSContext {
        TLSErrorQueue.assertEmpty(before: "TLSContext.server")
        try checkVersions(options)
        if options.verify != .none && options.caFile == nil {
            throw TLSConfigError("'verify \(options.verify)' needs a CA file ('ca-file') to check client certificates")
        }
        let files = try expandCertificateFiles(options.certificateFiles)
        if files.isEmpty {
            throw TLSConfigError("no certificate: a TLS listener needs at least one 'crt' file")
        }
        let alpnWire = try encodeALPN(options.alpn)
        var built: [OpaquePointer] = []
        var names: [String: Int] = [:]
        let keys: TLSTicketKeys?
        do throws(TLSConfigError) {
            keys = options.sessionTickets ? try TLSTicketKeys() : nil
            for (index, file) in files.enumerated() {
                let ctx = try newContext(TLS_server_method())
                built.append(ctx)
                try configureCommon(ctx, options)
                try configureServer(ctx, options, hasALPN: alpnWire != nil, hasTicketKeys: keys != nil)
                for name in try loadCertificate(into: ctx, from: file) where names[name] == nil {
                    names[name] = index
                }
            }
        } catch {
            for ctx in built { SSL_CTX_free(ctx) }
            alpnWire?.deallocate()
            throw error
        }
        return TLSContext(
            isServer: true,
            contexts: built,
            contextByName: names,
            verify: options.verify,
            defaultServerName: nil,
            alpnWire: alpnWire,
            ticketKeys: keys,
            savesSessions: false
        )
    }

    /// Builds a client context (TLS to servers). Accepts at most one certificate file (the client certificate);
    /// rejects `verify required` without a CA file and everything `server(_:)` rejects for the same settings.
    public static func client(_ options: TLSContextOptions) throws(TLSConfigError) -> TLSContext {
        TLSErrorQueue.assertEmpty(before: "TLSContext.client")
        try checkVersions(options)
        if options.verify == .required && options.caFile == nil {
            throw TLSConfigError("'verify required' needs a CA file ('ca-file') to check the server's certificate")
        }
        if options.certificateFiles.count > 1 {
            throw TLSConfigError("a TLS client presents one certificate, \(options.certificateFiles.count) given")
        }
        let alpnWire = try encodeALPN(options.alpn)
        defer { alpnWire?.deallocate() }  // SSL_CTX_set_alpn_protos copies it
        let savesSessions = options.sessionTickets || options.sessionCacheSize > 0
        let ctx = try newContext(TLS_client_method())
        do throws(TLSConfigError) {
            try configureCommon(ctx, options)
            try configureClient(ctx, options, alpnWire: alpnWire, savesSessions: savesSessions)
            if let file = options.certificateFiles.first {
                _ = try loadCertificate(into: ctx, from: file)
            }
        } catch {
            SSL_CTX_free(ctx)
            throw error
        }
        return TLSContext(
            isServer: false,
            contexts: [ctx],
            contextByName: [:],
            verify: options.verify,
            defaultServerName: options.serverName,
            alpnWire: nil,
            ticketKeys: nil,
            savesSessions: savesSessions
        )
    }

    private init(
        isServer: Bool,
        contexts: [OpaquePointer],
        contextByName: [String: Int],
        verify: TLSVerify,
        defaultServerName: String?,
        alpnWire: UnsafeMutableBufferPointer<UInt8>?,
        ticketKeys: TLSTicketKeys?,
        savesSessions: Bool
    ) {
        self.isServer = isServer
        self.contexts = contexts
        self.contextByName = contextByName
        self.verify = verify
        self.defaultServerName = defaultServerName
        self.alpnWire = alpnWire
        self.ticketKeys = ticketKeys
        self.savesSessions = savesSessions
        let me = Unmanaged.passUnretained(self).toOpaque()
        for ctx in contexts {
            SSL_CTX_set_ex_data(ctx, contextExDataIndex, me)
        }
        // One certificate: nothing to choose, and the handshake skips the callback.
        if isServer && contexts.count > 1 {
            _ = csluice_SSL_CTX_set_tlsext_servername_callback(contexts[0], sluiceServerNameCallback)
        }
        // Every successful call above leaves the queue empty with Debian's OpenSSL 3.0 (the tests check it);
        // should another version leave a note behind, debug builds say so and release builds still keep the
        // invariant: an empty queue when control leaves SluiceTLS.
        TLSErrorQueue.assertEmpty(before: "returning a new TLSContext")
        TLSErrorQueue.discard()
    }

    deinit {
        for ctx in contexts { SSL_CTX_free(ctx) }
        alpnWire?.deallocate()
    }

    /// The SSL_CTX every connection starts with.
    var defaultContext: OpaquePointer { contexts[0] }

    /// Number of certificates a server context holds (SNI candidates); 0 for a client without a certificate.
    public var certificateCount: Int { isServer ? contexts.count : 0 }

    /// The TLSContext that owns `ctx` (callbacks only).
    static func owner(of ctx: OpaquePointer?) -> TLSContext? {
        guard let ctx, let raw = SSL_CTX_get_ex_data(ctx, contextExDataIndex) else { return nil }
        return Unmanaged<TLSContext>.fromOpaque(raw).takeUnretainedValue()
    }

    /// SNI: the index of the SSL_CTX for `name`: an exact certificate name, then a wildcard covering its first
    /// label (`x.wild.example` → `*.wild.example`, one label only), then the first certificate (HAProxy's
    /// order). Runs once per handshake (allocates a String for the lowercase name).
    func contextIndex(forServerName name: UnsafePointer<CChar>) -> Int {
        let lowered = String(cString: name).lowercasedASCII()
        if let index = contextByName[lowered] { return index }
        if let dot = lowered.utf8.firstIndex(of: UInt8(ascii: ".")),
            let index = contextByName["*" + lowered[dot...]]
        {
            return index
        }
        return 0
    }
}

@available(*, unavailable)
extension TLSContext: Sendable {}

extension String {
    /// ASCII-only lowercase: DNS names compare case-insensitively in ASCII only (RFC 4343).
    func lowercasedASCII() -> String {
        String(decoding: utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}
