// SPDX-License-Identifier: Apache-2.0
// The immutable configuration model: what the parser produces and the proxy consumes. Plain value types only;
// no sockets, no file descriptors, no dependency on SluiceCore. Times are milliseconds, sizes are bytes.
// Every object that came from a line of the file carries its SourceLocation so that later checks (and the
// runtime's log lines) can point at it.

/// A place in the configuration text: file path as given on the command line (or found in a directory) and
/// 1-based line number.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}

/// The whole configuration after parsing and validation. Built once per load (start or reload), never mutated.
public struct Configuration: Sendable {
    public var global: GlobalSettings
    /// Every `frontend`, `backend` and `listen` section, in file order. A `listen` section is one proxy with both
    /// capabilities, as in HAProxy.
    public var proxies: [ProxyConfig]

    public init(global: GlobalSettings = GlobalSettings(), proxies: [ProxyConfig] = []) {
        self.global = global
        self.proxies = proxies
    }

    /// Proxies that accept connections (`frontend` and `listen`).
    public var frontends: [ProxyConfig] { proxies.filter { $0.capabilities.contains(.frontend) } }
    /// Proxies that hold servers (`backend` and `listen`).
    public var backends: [ProxyConfig] { proxies.filter { $0.capabilities.contains(.backend) } }

    /// The backend-capable proxy with this name, if any.
    public func backend(named name: String) -> ProxyConfig? {
        proxies.first { $0.capabilities.contains(.backend) && $0.name == name }
    }
}

// MARK: - global

/// The `global` section (several `global` sections add up).
public struct GlobalSettings: Sendable {
    /// `maxconn`; nil means "derive from the open-files limit" ((limit - 100) / 2), decided at start.
    public var maxconn: Int?
    public var logTargets: [LogTarget] = []
    public var pidfile: String?
    public var daemon = false
    public var user: String?
    public var group: String?
    public var uid: UInt32?
    public var gid: UInt32?
    public var chroot: String?
    /// `hard-stop-after`: bound on a soft stop, in ms. nil = unbounded.
    public var hardStopAfterMs: Int?
    public var tune = TuneSettings()
    /// `ssl-default-*`, `tune.ssl.cachesize`, `ssl-server-verify`, `crt-base`, `ca-base`.
    public var tls = GlobalTLSSettings()
    /// `stats socket` lines, in order.
    public var statsSockets: [StatsSocket] = []
    /// `stats timeout`: idle timeout of an admin-socket connection. Default 10 s.
    public var statsTimeoutMs = 10000

    public init() {}
}

/// `tune.*` settings that change behaviour.
public struct TuneSettings: Sendable, Equatable {
    /// `tune.bufsize`: size of every I/O buffer.
    public var bufferSize = 16384
    /// `tune.maxrewrite`: room kept free in a request buffer for header rewrites (HTTP mode).
    public var maxRewrite = 1024
    /// `tune.maxpollevents`: size of the epoll_wait events array.
    public var maxPollEvents = 200
    /// `tune.maxaccept`: connections accepted per listener per wakeup.
    public var maxAccept = 64

    public init() {}
}

/// Where log lines go (`log <target> [len N] [format F] <facility> [level [minlevel]]`).
public struct LogTarget: Sendable, Equatable {
    public enum Destination: Sendable, Equatable {
        case stdout
        case stderr
        /// A unix datagram socket such as `/dev/log`.
        case unixDatagram(path: String)
        /// UDP syslog, address already resolved.
        case udp(NetworkAddress)
    }

    public enum Format: String, Sendable, Equatable {
        case rfc3164
        case rfc5424
        case raw
    }

    public var destination: Destination
    /// `len`: longest line sent, in bytes (default 1024).
    public var maxLength = 1024
    public var format = Format.rfc3164
    /// syslog facility number (`local0` = 16).
    public var facility: Int
    /// Highest severity number sent (0 emerg ... 7 debug); default 7 (everything).
    public var maxLevel = 7
    /// Lowest severity number sent; default 0.
    public var minLevel = 0
    public var location: SourceLocation

    public init(destination: Destination, facility: Int, location: SourceLocation) {
        self.destination = destination
        self.facility = facility
        self.location = location
    }
}

// MARK: - addresses

/// A resolved IPv4 or IPv6 socket address (numeric; hostnames are resolved while the config is loaded, as
/// HAProxy does) or a unix socket path.
public enum NetworkAddress: Sendable, Hashable, CustomStringConvertible {
    /// `address` in host byte order.
    case ipv4(address: UInt32, port: UInt16)
    /// `address` as the 16 bytes of the in6_addr, network order.
    case ipv6(address: IPv6Bytes, port: UInt16)
    case unix(path: String)

    public var port: UInt16? {
        switch self {
        case .ipv4(_, let port), .ipv6(_, let port): return port
        case .unix: return nil
        }
    }

    public var description: String {
        switch self {
        case .ipv4(let a, let port):
            return "\(a >> 24).\((a >> 16) & 255).\((a >> 8) & 255).\(a & 255):\(port)"
        case .ipv6(let a, let port):
            return "[\(a)]:\(port)"
        case .unix(let path):
            return "unix@\(path)"
        }
    }
}

/// The 16 bytes of an IPv6 address, network order, as a value type that is Hashable and Sendable.
public struct IPv6Bytes: Sendable, Hashable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Bytes in network order.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 16, "IPv6 address needs 16 bytes, got \(bytes.count)")
        var h: UInt64 = 0
        var l: UInt64 = 0
        for i in 0..<8 { h = (h << 8) | UInt64(bytes[i]) }
        for i in 8..<16 { l = (l << 8) | UInt64(bytes[i]) }
        high = h
        low = l
    }

    /// Plain (uncompressed) hexadecimal groups; good enough for logs.
    public var description: String {
        let b = bytes
        return stride(from: 0, to: 16, by: 2).map { String((UInt16(b[$0]) << 8) | UInt16(b[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}

/// One address of a `bind` line.
public enum BindAddress: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4/IPv6 address and port. `*:port` is IPv4 any (0.0.0.0), `:::port` is IPv6 any.
    case inet(NetworkAddress)
    /// `unix@/path`.
    case unix(path: String)
    /// `fd@N`: an inherited, already bound (and usually listening) socket.
    case inheritedFD(Int32)

    public var description: String {
        switch self {
        case .inet(let a): return a.description
        case .unix(let path): return "unix@\(path)"
        case .inheritedFD(let fd): return "fd@\(fd)"
        }
    }
}

/// One `bind` line. Several addresses (`a:1,b:2` or a port range) share the options.
public struct BindConfig: Sendable, Equatable {
    public var addresses: [BindAddress]
    /// `name`
    public var name: String?
    /// `backlog`; nil = the frontend's maxconn (HAProxy's default), bounded by the kernel.
    public var backlog: Int?
    /// `accept-proxy`: every connection starts with a PROXY protocol header (v1 or v2), which gives the client and
    /// destination addresses.
    public var acceptProxy = false
    /// `ssl` and its options; nil = plain TCP.
    public var tls: BindTLS?
    /// `v6only` (true) / `v4v6` (false): IPV6_V6ONLY on IPv6 sockets; nil = the system's default.
    public var ipv6Only: Bool?
    public var location: SourceLocation

    public init(addresses: [BindAddress], location: SourceLocation) {
        self.addresses = addresses
        self.location = location
    }
}

// MARK: - proxies

public enum ProxyMode: String, Sendable, Equatable {
    case tcp
    case http
}

/// What a section can do: a `frontend` accepts, a `backend` holds servers, a `listen` does both.
public struct ProxyCapabilities: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let frontend = ProxyCapabilities(rawValue: 1)
    public static let backend = ProxyCapabilities(rawValue: 2)
    public static let listen: ProxyCapabilities = [.frontend, .backend]
}

/// `timeout *` values in milliseconds; nil = not set (HAProxy semantics: no timeout, with a warning for
/// client/server/connect in a proxy that needs them).
public struct Timeouts: Sendable, Equatable {
    public var connect: Int?
    public var client: Int?
    public var server: Int?
    public var tunnel: Int?
    public var clientFin: Int?
    public var serverFin: Int?
    public var queue: Int?
    public var httpRequest: Int?
    public var httpKeepAlive: Int?
    public var check: Int?

    public init() {}
}

/// `balance` algorithms.
public enum BalanceAlgorithm: Sendable, Equatable {
    case roundRobin
    case staticRoundRobin
    case leastConn
    case first
    case source
    case uri
    /// `random` / `random(N)`: N draws, the least loaded wins (power of N choices).
    case random(draws: Int)
}

public enum HashType: String, Sendable, Equatable {
    case mapBased = "map-based"
    case consistent
}

/// A condition (`if`/`unless` followed by ACL terms). Disjunction of conjunctions, as HAProxy evaluates it:
/// `a b || !c` is `(a AND b) OR (NOT c)`.
public struct Condition: Sendable, Equatable {
    public enum Polarity: Sendable, Equatable {
        case ifTrue  // if
        case unless  // unless
    }

    public struct Term: Sendable, Equatable {
        public var negated: Bool
        /// Index into the proxy's `acls` (named ACLs and anonymous `{ }` ones alike).
        public var aclIndex: Int

        public init(negated: Bool, aclIndex: Int) {
            self.negated = negated
            self.aclIndex = aclIndex
        }
    }

    public var polarity: Polarity
    /// OR of ANDs of terms.
    public var alternatives: [[Term]]

    public init(polarity: Polarity, alternatives: [[Term]]) {
        self.polarity = polarity
        self.alternatives = alternatives
    }
}

/// How an ACL compares a fetched sample with its patterns (`-m` or implied by the fetch name).
public enum MatchMethod: String, Sendable, Equatable {
    case exact = "str"
    case prefix = "beg"
    case suffix = "end"
    case substring = "sub"
    case regex = "reg"
    case domain = "dom"
    case ip
    case found
    case integer = "int"
    case boolean = "bool"
    /// `-m len`: the sample's length in bytes compared with integer patterns (ranges and operators allowed).
    case length = "len"
    /// `-m dir`: a pattern equal to one `/`-delimited segment of the sample.
    case directory = "dir"
}

/// A sample fetch (`src`, `hdr(host)`, ...). `name` is the canonical fetch name (aliases such as `req_ssl_sni` and
/// ACL keywords such as `path_beg` are resolved: see `ACLParser.supportedFetches`), `argument` its first
/// parenthesised argument if any (e.g. the header name), `arguments` all of them (`hdr(host,-1)`: `["host", "-1"]`).
public struct SampleFetch: Sendable, Equatable {
    public var name: String
    public var argument: String?
    /// Every argument, in order; `argument` is the first one.
    public var arguments: [String]

    /// A fetch with at most one argument.
    public init(name: String, argument: String? = nil) {
        self.name = name
        self.argument = argument
        self.arguments = argument.map { [$0] } ?? []
    }

    /// A fetch with any number of arguments.
    public init(name: String, arguments: [String]) {
        self.name = name
        self.argument = arguments.first
        self.arguments = arguments
    }
}

/// One test of an ACL: a fetch, its converters, a match method, flags and patterns (any pattern matching makes the
/// test true). Patterns are text as written (`-f` files already read into them, one per non-empty, non-comment
/// line); IP patterns are normalized (`a.b.c.d/len`, host names resolved), regexes were compiled once at load
/// (POSIX extended syntax; the runtime compiles its own, with REG_ICASE when `ignoreCase`).
public struct ACLTest: Sendable, Equatable {
    public var fetch: SampleFetch
    /// Applied to the fetched sample, in order, before matching (`hdr(host),lower`).
    public var converters: [SampleConverter]
    public var method: MatchMethod
    public var ignoreCase: Bool
    public var patterns: [String]
    public var location: SourceLocation

    public init(
        fetch: SampleFetch,
        converters: [SampleConverter] = [],
        method: MatchMethod,
        ignoreCase: Bool,
        patterns: [String],
        location: SourceLocation
    ) {
        self.fetch = fetch
        self.converters = converters
        self.method = method
        self.ignoreCase = ignoreCase
        self.patterns = patterns
        self.location = location
    }
}

/// A named ACL (every `acl` line with that name, OR-ed, in file order) or an anonymous `{ ... }` one (one test).
public struct ACLConfig: Sendable, Equatable {
    /// nil for an anonymous `{ ... }` ACL.
    public var name: String?
    public var tests: [ACLTest]

    public init(name: String?, tests: [ACLTest]) {
        self.name = name
        self.tests = tests
    }
}

/// `use_backend <name> [if|unless <cond>]`.
public struct BackendSwitchRule: Sendable, Equatable {
    public var backend: String
    public var condition: Condition?
    public var location: SourceLocation

    public init(backend: String, condition: Condition?, location: SourceLocation) {
        self.backend = backend
        self.condition = condition
        self.location = location
    }
}

/// `tcp-request connection accept|reject [if|unless <cond>]` and `tcp-request content ...`.
public struct TCPRequestRule: Sendable, Equatable {
    public enum Stage: Sendable, Equatable {
        case connection
        case content
    }

    public enum Action: Sendable, Equatable {
        case accept
        case reject
    }

    public var stage: Stage
    public var action: Action
    public var condition: Condition?
    public var location: SourceLocation

    public init(stage: Stage, action: Action, condition: Condition?, location: SourceLocation) {
        self.stage = stage
        self.action = action
        self.condition = condition
        self.location = location
    }
}

/// Server options shared by `server` and `default-server`.
public struct ServerOptions: Sendable, Equatable {
    public var weight = 1
    /// nil = unlimited.
    public var maxconn: Int?
    public var isBackup = false
    public var isDisabled = false
    /// `ssl`: traffic to the server uses TLS with `tls`.
    public var usesTLS = false
    /// TLS settings, used when `usesTLS` or `check.usesTLS`.
    public var tls = ServerTLS()
    /// `check`, `inter`, `rise`, `fall`, `check-ssl`, `observe`, ...
    public var check = HealthCheckSettings()
    /// `send-proxy` / `send-proxy-v2`; nil = no PROXY header.
    public var proxyProtocol: ProxyProtocolVersion?

    public init() {}
}

/// One `server` line.
public struct ServerConfig: Sendable, Equatable {
    public var name: String
    /// The address as written (for logs and reload matching).
    public var addressText: String
    public var address: NetworkAddress
    public var options: ServerOptions
    public var location: SourceLocation

    public init(
        name: String,
        addressText: String,
        address: NetworkAddress,
        options: ServerOptions,
        location: SourceLocation
    ) {
        self.name = name
        self.addressText = addressText
        self.address = address
        self.options = options
        self.location = location
    }
}

/// A `frontend`, `backend` or `listen` section after its `defaults` were applied.
public struct ProxyConfig: Sendable {
    public var name: String
    public var capabilities: ProxyCapabilities
    public var location: SourceLocation
    public var mode = ProxyMode.tcp
    public var timeouts = Timeouts()

    // frontend side
    public var binds: [BindConfig] = []
    /// `maxconn` on a frontend/listen; nil = the global maxconn.
    public var maxconn: Int?
    public var defaultBackend: String?
    public var backendSwitchRules: [BackendSwitchRule] = []
    public var tcpRequestRules: [TCPRequestRule] = []
    /// `tcp-request inspect-delay`, ms.
    public var inspectDelayMs: Int?
    public var acls: [ACLConfig] = []
    /// `log global` (or a proxy-level `log` target list; empty = no logging).
    public var logTargets: [LogTarget] = []
    public var usesGlobalLog = false
    public var tcpLog = false
    public var httpLog = false
    /// `option dontlognull`: connections that carried no request data are not logged.
    public var dontLogNull = false

    // HTTP (used in mode http; in a mode tcp proxy the second pass empties forwardFor, the rule lists and stats
    // with HAProxy's warnings, and the other settings have no effect)
    /// `option http-keep-alive|http-server-close|httpclose`.
    public var httpConnectionMode = HTTPConnectionMode.keepAlive
    /// `option forwardfor`; nil = no header added.
    public var forwardFor: ForwardFor?
    /// `errorfile` lines: at most one per status (the last one wins; the proxy's own lines replace inherited ones).
    public var errorFiles: [ErrorFile] = []
    /// `http-request` rules and `redirect` lines, in file order.
    public var httpRequestRules: [HTTPRequestRule] = []
    /// `http-response` rules, in file order.
    public var httpResponseRules: [HTTPResponseRule] = []
    /// `stats enable|uri|...`; nil = no stats page.
    public var stats: StatsPage?

    // backend side
    public var servers: [ServerConfig] = []
    public var balance = BalanceAlgorithm.roundRobin
    public var hashType = HashType.mapBased
    /// `retries`: extra connection attempts after the first fails (default 3).
    public var retries = 3
    public var redispatch = false
    /// `http-reuse`.
    public var httpReuse = HTTPReuse.safe
    /// `option log-health-checks`: every health-check status change of a server is logged, not only up/down.
    public var logsHealthChecks = false
    /// `option httpchk` (with `http-check send|expect`); nil = checks only connect (TCP), or TLS with `check-ssl`.
    public var httpCheck: HTTPCheck?

    public init(name: String, capabilities: ProxyCapabilities, location: SourceLocation) {
        self.name = name
        self.capabilities = capabilities
        self.location = location
    }
}
