// SPDX-License-Identifier: Apache-2.0
// TLSContextOptions: the plain values a TLSContext is built from. The proxy fills them from the config model
// (bind/server keywords and the ssl-default-* globals); nothing here touches OpenSSL or the file system.

/// Peer certificate verification. On a server context it is about client certificates (`verify` on `bind`);
/// on a client context about the server's certificate (`verify` on `server`).
public enum TLSVerify: Sendable, Equatable {
    /// Server: no client certificate is requested. Client: the server's certificate is still checked and the
    /// result is in `TLSConnection.verifyResult`, but a failure does not stop the handshake.
    case none
    /// Server: a client certificate is requested; a client may send none, but one that it sends must verify.
    /// Client: same as `.none`.
    case optional
    /// Server: the client must send a certificate that verifies against `caFile`. Client: the server's
    /// certificate must verify against `caFile`, and match the server name when one is set.
    case required
}

/// A protocol version bound (`ssl-min-ver` / `ssl-max-ver`).
public enum TLSVersion: Sendable, Equatable, Comparable, CaseIterable {
    case tls1_0
    case tls1_1
    case tls1_2
    case tls1_3

    /// The name used in configs and logs: `TLSv1.2`.
    public var name: String {
        switch self {
        case .tls1_0: return "TLSv1.0"
        case .tls1_1: return "TLSv1.1"
        case .tls1_2: return "TLSv1.2"
        case .tls1_3: return "TLSv1.3"
        }
    }

    /// The OpenSSL constant (TLS1_2_VERSION ...).
    var openSSLValue: CInt {
        switch self {
        case .tls1_0: return 0x0301
        case .tls1_1: return 0x0302
        case .tls1_2: return 0x0303
        case .tls1_3: return 0x0304
        }
    }
}

/// Everything a `TLSContext` is built from. Plain values; defaults are sluice's secure defaults.
public struct TLSContextOptions: Sendable, Equatable {
    /// Server: PEM files, each holding certificate, chain and key (HAProxy's `crt`); an entry that is a
    /// directory is expanded here to its files in name order (dot files and `.key`/`.ocsp`/`.issuer`/`.sctl`
    /// skipped). The first certificate is the default one (no SNI, or no match). At least one is required.
    /// Client: at most one, the client certificate presented to servers that ask for one.
    public var certificateFiles: [String] = []
    /// PEM file of trusted CAs: verifies client certificates (server) or the server's certificate (client).
    /// Required when `verify` is not `.none` on a server, and when it is `.required` on a client.
    public var caFile: String? = nil
    /// Peer verification; see `TLSVerify`.
    public var verify: TLSVerify = .none
    /// ALPN protocol names in preference order (`h2`, `http/1.1`); empty = no ALPN. A server picks by its own
    /// order; a client offers them.
    public var alpn: [String] = []
    /// Lowest version accepted; nil = TLS 1.2. OpenSSL 3 negotiates TLS 1.0/1.1 only at security level 0,
    /// which `ciphers` must then ask for (`...:@SECLEVEL=0`).
    public var minVersion: TLSVersion? = nil
    /// Highest version accepted; nil = the highest OpenSSL knows (TLS 1.3).
    public var maxVersion: TLSVersion? = nil
    /// TLS 1.2 cipher list (OpenSSL syntax); nil = `TLSContextOptions.defaultCiphers` (ECDHE + AEAD only).
    public var ciphers: String? = nil
    /// TLS 1.3 cipher suites (OpenSSL syntax); nil = OpenSSL's default (all three are AEAD).
    public var ciphersuites: String? = nil
    /// Key-exchange groups (OpenSSL syntax, `X25519:P-256`); nil = `TLSContextOptions.defaultCurves`.
    public var curves: String? = nil
    /// Session tickets (stateless resumption, keys rotated; see `TLSContext`). Server: issue and accept them.
    /// Client: ask for them. False on both sides with `sessionCacheSize == 0` disables resumption entirely.
    public var sessionTickets: Bool = true
    /// Server: entries in the stateful session cache; 0 = no cache. Client: any value > 0 (or
    /// `sessionTickets`) turns on saving sessions into `TLSSessionSlot`s.
    public var sessionCacheSize: Int = 20_000
    /// Client: the server name sent in SNI and checked against the certificate when `verify == .required`,
    /// unless a connection names another. IP literals are checked but never sent in SNI (RFC 6066).
    public var serverName: String? = nil

    /// The default options: TLS 1.2+, AEAD-only ciphers, tickets and a 20,000-entry cache, no verification.
    public init() {}

    /// TLS 1.2 ciphers used when `ciphers` is nil: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only
    /// (no CBC, no static RSA, no DHE), ECDSA then RSA authentication. TLS 1.3 suites are all AEAD already.
    public static let defaultCiphers =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

    /// Groups used when `curves` is nil: X25519, P-256, P-384 (ECDHE only; no finite-field groups).
    public static let defaultCurves = "X25519:P-256:P-384"
}
