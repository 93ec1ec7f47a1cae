// SPDX-License-Identifier: Apache-2.0
// Statistics and administration in the model: a proxy's stats page (`stats enable|uri|refresh|auth|realm|admin|
// hide-version`) and the global admin sockets (`stats socket`, `stats timeout`).

/// One `stats auth <user>:<password>` line.
public struct StatsCredential: Sendable, Equatable {
    public var user: String
    /// Plain text, as HAProxy's `stats auth` takes it.
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }
}

/// The statistics page served by a proxy (HTML, and CSV with `;csv`). Any `stats` keyword of the proxy enables it,
/// as in HAProxy (so `stats uri` alone is enough).
public struct StatsPage: Sendable, Equatable {
    /// `stats uri <prefix>`: requests whose URI starts with it get the page. Default `/haproxy?stats`.
    public var uriPrefix = "/haproxy?stats"
    /// `stats refresh <delay>`: the page asks the browser to reload it this often; nil = never.
    public var refreshMs: Int?
    /// `stats realm <realm>`: the HTTP Basic realm; nil = `HAProxy Statistics` when `credentials` is not empty.
    public var realm: String?
    /// `stats auth` lines; empty = no authentication.
    public var credentials: [StatsCredential] = []
    /// `stats admin if|unless <cond>`: when true, the page allows admin actions; nil = read-only.
    public var adminCondition: Condition?
    /// `stats hide-version`: the page does not show sluice's version.
    public var hidesVersion = false
    /// The first `stats` line of the proxy (or of its defaults section).
    public var location: SourceLocation

    public init(location: SourceLocation) {
        self.location = location
    }
}

/// What an admin-socket client may do (`level`).
public enum StatsLevel: String, Sendable, Equatable, Comparable {
    /// Non-sensitive `show` commands only.
    case user
    /// Everything can be read, only non-sensitive changes (HAProxy's default).
    case `operator`
    /// Everything.
    case admin

    private var rank: Int {
        switch self {
        case .user: return 0
        case .operator: return 1
        case .admin: return 2
        }
    }

    public static func < (lhs: StatsLevel, rhs: StatsLevel) -> Bool { lhs.rank < rhs.rank }
}

/// One global `stats socket <address> [mode <octal>] [level user|operator|admin]` line: the admin CLI.
public struct StatsSocket: Sendable, Equatable {
    /// A unix socket path, `fd@N`, or an IPv4/IPv6 address and port.
    public var address: BindAddress
    /// `mode`: permission bits of a unix socket (octal in the file, e.g. 600 = 0o600); nil = umask decides.
    public var mode: UInt32?
    /// Default `.operator`.
    public var level = StatsLevel.operator
    public var location: SourceLocation

    public init(address: BindAddress, location: SourceLocation) {
        self.address = address
        self.location = location
    }
}
