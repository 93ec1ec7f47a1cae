// SPDX-License-Identifier: Apache-2.0
// Health checks and server-side connection options in the model: the per-server `check` settings (active checks,
// `observe layer4` passive checks), the PROXY protocol header sent to servers, and the proxy's `option httpchk` /
// `http-check` request and expectation. Times are milliseconds.

/// What `on-error` does when `observe layer4` counted `error-limit` consecutive errors.
public enum OnErrorAction: String, Sendable, Equatable {
    /// Check again at `fastinter` (HAProxy's `fastinter`).
    case fastInter = "fastinter"
    /// Count one failed check (the default).
    case failCheck = "fail-check"
    /// Count enough failed checks to leave one before the server goes down.
    case suddenDeath = "sudden-death"
    /// Mark the server down at once.
    case markDown = "mark-down"
}

/// Health-check settings of a server (`server`/`default-server` options).
public struct HealthCheckSettings: Sendable, Equatable {
    /// `check` (off by default; `no-check` turns it off again).
    public var isEnabled = false
    /// `inter`: interval between checks while the server is up. Default 2000 ms.
    public var intervalMs = 2000
    /// `fastinter`: interval while the server is going up or down; nil = `intervalMs`.
    public var fastIntervalMs: Int?
    /// `downinter`: interval while the server is down; nil = `intervalMs`.
    public var downIntervalMs: Int?
    /// `rise`: consecutive successes that bring a down server up. Default 2.
    public var rise = 2
    /// `fall`: consecutive failures that take an up server down. Default 3.
    public var fall = 3
    /// `port`: port checks connect to; nil = the server's port (or the port of `address`).
    public var port: UInt16?
    /// `addr`: address checks connect to instead of the server's (its port is 0 unless written `addr ip:port`).
    public var address: NetworkAddress?
    /// `check-ssl`: checks use TLS with the server's `ServerTLS` settings (even when traffic does not).
    public var usesTLS = false
    /// `observe layer4`: connection errors on live traffic count as failed checks.
    public var observesLayer4 = false
    /// `error-limit`: consecutive observed errors that trigger `onError`. Default 10.
    public var errorLimit = 10
    /// `on-error`. Default fail-check.
    public var onError = OnErrorAction.failCheck

    public init() {}
}

/// The PROXY protocol header a server connection starts with (`send-proxy`, `send-proxy-v2`).
public enum ProxyProtocolVersion: Int, Sendable, Equatable {
    case v1 = 1
    case v2 = 2
}

/// What an HTTP check response must look like (`http-check expect [!] status|rstatus <pattern>`).
public struct HTTPCheckExpect: Sendable, Equatable {
    public enum Match: Sendable, Equatable {
        /// `status 200,300-399`: the status is one of these codes or ranges.
        case status([ClosedRange<Int>])
        /// `rstatus <regex>`: the status code (3 digits as text) matches this POSIX extended regex.
        case statusRegex(String)
    }

    public var match: Match
    /// `!`: the check passes when the match fails.
    public var isNegated: Bool
    public var location: SourceLocation

    public init(match: Match, isNegated: Bool, location: SourceLocation) {
        self.match = match
        self.isNegated = isNegated
        self.location = location
    }
}

/// `option httpchk [<method>] [<uri>] [<version>]` plus `http-check send|expect`: checks send this request and
/// judge the response. Without `expect`, 2xx and 3xx are good (HAProxy's default).
public struct HTTPCheck: Sendable, Equatable {
    /// Default `OPTIONS`.
    public var method = "OPTIONS"
    /// Default `/`.
    public var uri = "/"
    /// `HTTP/1.0` (default) or `HTTP/1.1`.
    public var version = "HTTP/1.0"
    /// `http-check send hdr <name> <value>` fields, in order (constant values: `value.isConstant`).
    public var headers: [HTTPHeaderField] = []
    /// `http-check send body <string>`; sent with a Content-Length.
    public var body: String?
    /// nil = 2xx and 3xx pass.
    public var expect: HTTPCheckExpect?
    /// The `option httpchk` line.
    public var location: SourceLocation

    public init(location: SourceLocation) {
        self.location = location
    }
}
