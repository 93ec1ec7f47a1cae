// SPDX-License-Identifier: Apache-2.0
// The TLS part of the model: `bind ... ssl` settings, server-side TLS settings, and the global defaults they start
// from. Values are effective: `crt-base`/`ca-base` are already prefixed, the `ssl-default-*` globals already applied
// (as HAProxy does, from the global lines above the bind/server line) and the protocol range already computed. The
// files were only checked to exist and be readable; the TLS layer reads and validates their contents.

/// A TLS protocol version; the raw value is the wire/OpenSSL version number (`TLS1_2_VERSION` = 0x0303).
public enum TLSVersion: Int, Sendable, Comparable, CaseIterable {
    case sslv3 = 0x0300
    case tls1_0 = 0x0301
    case tls1_1 = 0x0302
    case tls1_2 = 0x0303
    case tls1_3 = 0x0304

    /// HAProxy's spelling: `SSLv3`, `TLSv1.0` ... `TLSv1.3`.
    public var name: String {
        switch self {
        case .sslv3: return "SSLv3"
        case .tls1_0: return "TLSv1.0"
        case .tls1_1: return "TLSv1.1"
        case .tls1_2: return "TLSv1.2"
        case .tls1_3: return "TLSv1.3"
        }
    }

    /// Parses HAProxy's spelling.
    public init?(name: String) {
        guard let version = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = version
    }

    public static func < (lhs: TLSVersion, rhs: TLSVersion) -> Bool { lhs.rawValue < rhs.rawValue }

    /// sluice's minimum when nothing is configured (PRODUCT.md; HAProxy 2.6 has the same default).
    public static let defaultMinimum = TLSVersion.tls1_2
}

/// A `crt` argument: a PEM file (certificate, chain and key) or a directory of them.
public struct CertificateSource: Sendable, Equatable {
    /// With `crt-base` applied.
    public var path: String
    public var isDirectory: Bool

    public init(path: String, isDirectory: Bool) {
        self.path = path
        self.isDirectory = isDirectory
    }
}

/// `verify` on a bind line: whether clients must present a certificate signed by `ca-file`.
public enum ClientCertificateVerify: String, Sendable, Equatable {
    case none
    case optional
    case required
}

/// `verify` on a server line (and `ssl-server-verify`): whether the server's certificate is checked against
/// `ca-file`.
public enum ServerCertificateVerify: String, Sendable, Equatable {
    case none
    case required
}

/// TLS settings of a `bind ... ssl` line.
public struct BindTLS: Sendable, Equatable {
    /// `crt` arguments in order; the first certificate found is the default one (no SNI match). Never empty.
    public var certificates: [CertificateSource]
    /// `alpn h2,http/1.1` split at commas; empty = no ALPN. Listed as written: the runtime must not select a
    /// protocol it cannot speak (sluice speaks `http/1.1` in mode http).
    public var alpn: [String] = []
    /// Lowest and highest protocol versions offered; `ssl-min-ver`, `ssl-max-ver` and `no-sslv3`/`no-tlsv1x`
    /// (from the line and `ssl-default-bind-options`) folded into one range. Default TLSv1.2 ... TLSv1.3.
    public var minVersion = TLSVersion.defaultMinimum
    public var maxVersion = TLSVersion.tls1_3
    /// `ciphers` (TLS <= 1.2, OpenSSL syntax); nil = sluice's AEAD-only default.
    public var ciphers: String?
    /// `ciphersuites` (TLS 1.3); nil = OpenSSL's default.
    public var cipherSuites: String?
    /// `curves` (OpenSSL groups list, `X25519:P-256`); nil = OpenSSL's default.
    public var curves: String?
    /// `ca-file` (with `ca-base` applied): CAs for client certificates.
    public var caFile: String?
    /// `verify`; default `.none`. `.required` and `.optional` need `caFile` (checked at load).
    public var verify = ClientCertificateVerify.none
    /// False with `no-tls-tickets`.
    public var usesTickets = true
    /// `prefer-client-ciphers`: the client's cipher order wins (SSL_OP_CIPHER_SERVER_PREFERENCE off).
    public var prefersClientCiphers = false

    public init(certificates: [CertificateSource]) {
        self.certificates = certificates
    }
}

/// TLS settings for connections to a server (used by `ssl` traffic and `check-ssl` checks alike).
public struct ServerTLS: Sendable, Equatable {
    /// The line's `verify`, else the global `ssl-server-verify` (default `required`), resolved after the whole file
    /// was read. `.required` needs `caFile` (checked at load when the server uses TLS).
    public var verify = ServerCertificateVerify.required
    /// `ca-file` (with `ca-base` applied).
    public var caFile: String?
    /// `sni <expr>`: the SNI sent, evaluated per connection (`req.hdr(host)`, `str(www.example.com)`); nil = none.
    public var sni: SampleExpression?
    /// `alpn` split at commas; empty = none.
    public var alpn: [String] = []
    /// Protocol range, as for BindTLS (with `ssl-default-server-options`).
    public var minVersion = TLSVersion.defaultMinimum
    public var maxVersion = TLSVersion.tls1_3
    /// `ciphers` / `ssl-default-server-ciphers`; nil = sluice's default.
    public var ciphers: String?
    /// `ciphersuites` / `ssl-default-server-ciphersuites`; nil = OpenSSL's default.
    public var cipherSuites: String?
    /// `crt`: client certificate PEM (certificate and key) presented to the server, with `crt-base` applied.
    public var clientCertificate: String?
    /// False with `no-ssl-reuse`: every connection makes a full handshake.
    public var reusesSessions = true
    /// False with `no-tls-tickets`.
    public var usesTickets = true

    /// True once the line (or a `default-server` line before it) set `verify`; otherwise `ssl-server-verify` decides.
    var isVerifySet = false
    /// The version options seen on `default-server` and `server` lines, folded into the range at the end of each
    /// server line together with `ssl-default-server-options`.
    var versionOptions = TLSVersionOptions()

    public init() {}
}

/// `ssl-min-ver`, `ssl-max-ver` and `no-sslv3`/`no-tlsv1x` as written on one line or in `ssl-default-*-options`.
struct TLSVersionOptions: Sendable, Equatable {
    var minimum: TLSVersion?
    var maximum: TLSVersion?
    var disabled: Set<TLSVersion> = []

    /// The line's options over the defaults: a bound set on the line wins, disabled versions add up.
    func over(_ defaults: TLSVersionOptions) -> TLSVersionOptions {
        TLSVersionOptions(
            minimum: minimum ?? defaults.minimum,
            maximum: maximum ?? defaults.maximum,
            disabled: disabled.union(defaults.disabled)
        )
    }

    /// The enabled range (lowest and highest enabled version between the bounds, default TLSv1.2 ... TLSv1.3), or
    /// nil when every version is disabled.
    var range: (TLSVersion, TLSVersion)? {
        let low = minimum ?? TLSVersion.defaultMinimum
        let high = maximum ?? .tls1_3
        let enabled = TLSVersion.allCases.filter { $0 >= low && $0 <= high && !disabled.contains($0) }
        guard let first = enabled.first, let last = enabled.last else { return nil }
        return (first, last)
    }
}

/// Defaults from `ssl-default-bind-*` or `ssl-default-server-*` (applied to the lines that follow them).
public struct TLSDefaults: Sendable, Equatable {
    public var ciphers: String?
    public var cipherSuites: String?
    /// `ssl-default-bind-curves` (bind side only).
    public var curves: String?
    /// `ssl-min-ver` in the options; nil = not set.
    public var minVersion: TLSVersion?
    /// `ssl-max-ver` in the options; nil = not set.
    public var maxVersion: TLSVersion?
    /// `no-sslv3`, `no-tlsv10` ... in the options.
    public var disabledVersions: Set<TLSVersion> = []
    /// `no-tls-tickets` in the options.
    public var disablesTickets = false
    /// `prefer-client-ciphers` in the options (bind side only).
    public var prefersClientCiphers = false

    public init() {}

    /// The version options as the parsers fold them.
    var versionOptions: TLSVersionOptions {
        TLSVersionOptions(minimum: minVersion, maximum: maxVersion, disabled: disabledVersions)
    }
}

/// TLS settings of the `global` section.
public struct GlobalTLSSettings: Sendable, Equatable {
    /// `ssl-default-bind-options`, `-ciphers`, `-ciphersuites`, `-curves` (already applied to the bind lines).
    public var bindDefaults = TLSDefaults()
    /// `ssl-default-server-options`, `-ciphers`, `-ciphersuites` (already applied to the server lines).
    public var serverDefaults = TLSDefaults()
    /// `tune.ssl.cachesize`: entries of the server-side session cache; 0 disables it. HAProxy's default: 20000.
    public var sessionCacheSize = 20000
    /// `ssl-server-verify` (already applied to servers without their own `verify`).
    public var serverVerify = ServerCertificateVerify.required
    /// `crt-base` (already applied to relative `crt` paths).
    public var crtBase: String?
    /// `ca-base` (already applied to relative `ca-file` paths).
    public var caBase: String?

    public init() {}
}
