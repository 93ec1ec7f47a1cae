// SPDX-License-Identifier: Apache-2.0
// ACLs and conditions compiled from the config model into matchers: patterns parsed once (IP networks,
// integer ranges, byte strings) so that evaluating a condition allocates nothing. Fetches available in TCP
// mode: src, dst, dst_port, always_true, always_false. A fetch the runtime cannot evaluate is a config error.
import Glibc
import SluiceConfig
import SluiceCore

/// What a session offers to sample fetches.
protocol SampleSource {
    /// The client's address (`src`).
    var sourceAddress: IPEndpoint { get }
    /// The address the client connected to (`dst`, `dst_port`); may cost a getsockname the first time.
    mutating func destinationAddress() -> IPEndpoint
}

/// An IPv4 or IPv6 network (`10.0.0.0/8`, `::1`).
struct IPNetwork: Equatable {
    let family: IPEndpoint.Family
    let high: UInt64
    let low: UInt64
    let prefixLength: Int

    /// Parses `addr[/len]`; nil when it is neither an IPv4 nor an IPv6 address.
    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let addr = parts.first, !addr.isEmpty else { return nil }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, addr, &v4) == 1 {
            family = .ipv4
            high = UInt64(UInt32(bigEndian: v4.s_addr))
            low = 0
            let len = parts.count > 1 ? Int(parts[1]) : 32
            // A dotted mask (255.255.0.0) is accepted too, as HAProxy does.
            if len == nil, parts.count > 1 {
                var mask = in_addr()
                guard inet_pton(AF_INET, parts[1], &mask) == 1 else { return nil }
                let m = UInt32(bigEndian: mask.s_addr)
                guard m.leadingZeroBitCount == 0 || m == 0, (~m) & ((~m) &+ 1) == 0 else { return nil }
                prefixLength = m.nonzeroBitCount
            } else {
                guard let l = len, l >= 0, l <= 32 else { return nil }
                prefixLength = l
            }
        } else if inet_pton(AF_INET6, addr, &v6) == 1 {
            family = .ipv6
            var h: UInt64 = 0
            var l: UInt64 = 0
            withUnsafeBytes(of: v6) { b in
                for i in 0..<8 { h = (h << 8) | UInt64(b[i]) }
                for i in 8..<16 { l = (l << 8) | UInt64(b[i]) }
            }
            high = h
            low = l
            guard let len = parts.count > 1 ? Int(parts[1]) : 128, len >= 0, len <= 128 else { return nil }
            prefixLength = len
        } else {
            return nil
        }
    }

    /// True when `endpoint`'s address is inside this network. IPv4-mapped IPv6 clients match IPv4 networks.
    func contains(_ endpoint: IPEndpoint) -> Bool {
        switch (family, endpoint.family) {
        case (.ipv4, .ipv4):
            return Self.matches32(UInt32(high), endpoint.ipv4Address, prefixLength)
        case (.ipv4, .ipv6):
            // ::ffff:a.b.c.d
            guard endpoint.high == 0, endpoint.low >> 32 == 0xFFFF else { return false }
            return Self.matches32(UInt32(high), UInt32(truncatingIfNeeded: endpoint.low), prefixLength)
        case (.ipv6, .ipv6):
            if prefixLength <= 64 {
                let mask: UInt64 = prefixLength == 0 ? 0 : ~0 << (64 - UInt64(prefixLength))
                return high & mask == endpoint.high & mask
            }
            let mask: UInt64 = ~0 << (128 - UInt64(prefixLength))
            return high == endpoint.high && low & mask == endpoint.low & mask
        default:
            return false
        }
    }

    private static func matches32(_ network: UInt32, _ address: UInt32, _ length: Int) -> Bool {
        let mask: UInt32 = length == 0 ? 0 : ~0 << (32 - UInt32(length))
        return network & mask == address & mask
    }
}

/// One compiled ACL test.
struct ACLMatcher {
    enum Fetch {
        case source
        case destination
        case destinationPort
        case alwaysTrue
        case alwaysFalse
    }

    enum Patterns {
        case none
        case networks([IPNetwork])
        case integers([ClosedRange<Int>])
    }

    let fetch: Fetch
    let patterns: Patterns

    /// Compiles `test`; returns an error message when the fetch is unknown here or a pattern is invalid.
    static func compile(_ test: ACLTest) -> Result<ACLMatcher, ConfigError> {
        switch test.fetch.name {
        case "src", "dst":
            var networks: [IPNetwork] = []
            for p in test.patterns {
                guard let n = IPNetwork(p) else {
                    return .failure(ConfigError(test.location, "'\(p)' is not a valid IPv4 or IPv6 address or network"))
                }
                networks.append(n)
            }
            return .success(ACLMatcher(fetch: test.fetch.name == "src" ? .source : .destination, patterns: .networks(networks)))
        case "dst_port":
            var ranges: [ClosedRange<Int>] = []
            for p in test.patterns {
                guard let r = Self.parseRange(p) else {
                    return .failure(ConfigError(test.location, "'\(p)' is not a valid port or port range"))
                }
                ranges.append(r)
            }
            return .success(ACLMatcher(fetch: .destinationPort, patterns: .integers(ranges)))
        case "always_true":
            return .success(ACLMatcher(fetch: .alwaysTrue, patterns: .none))
        case "always_false":
            return .success(ACLMatcher(fetch: .alwaysFalse, patterns: .none))
        default:
            return .failure(ConfigError(test.location, "fetch '\(test.fetch.name)' is not supported by sluice"))
        }
    }

    /// `N` or `N:M` (HAProxy's integer range syntax) or `N-M`.
    static func parseRange(_ text: String) -> ClosedRange<Int>? {
        let sep: Character = text.contains(":") ? ":" : "-"
        let parts = text.split(separator: sep, maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1, let v = Int(parts[0]) { return v...v }
        if parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a <= b { return a...b }
        return nil
    }

    /// Evaluates the test against a session.
    func matches<S: SampleSource>(_ source: inout S) -> Bool {
        switch fetch {
        case .alwaysTrue: return true
        case .alwaysFalse: return false
        case .source:
            guard case .networks(let nets) = patterns else { return false }
            let a = source.sourceAddress
            return nets.contains { $0.contains(a) }
        case .destination:
            guard case .networks(let nets) = patterns else { return false }
            let a = source.destinationAddress()
            return nets.contains { $0.contains(a) }
        case .destinationPort:
            guard case .integers(let ranges) = patterns else { return false }
            let port = Int(source.destinationAddress().port)
            return ranges.contains { $0.contains(port) }
        }
    }
}

/// A config error found while building the runtime (after parsing): rendered like the parser's alerts.
struct ConfigError: Error {
    let location: SourceLocation?
    let message: String

    init(_ location: SourceLocation?, _ message: String) {
        self.location = location
        self.message = message
    }

    /// `[ALERT] parsing [file:line] : message`.
    var rendered: String {
        if let l = location { return "[ALERT] parsing [\(l.file):\(l.line)] : \(message)" }
        return "[ALERT] \(message)"
    }
}

/// A proxy's ACLs and a condition over them, compiled.
struct CompiledCondition {
    let isUnless: Bool
    /// OR of ANDs of (negated, acl index).
    let alternatives: [[(negated: Bool, acl: Int)]]

    init(_ condition: Condition) {
        isUnless = condition.polarity == .unless
        alternatives = condition.alternatives.map { $0.map { (negated: $0.negated, acl: $0.aclIndex) } }
    }

    /// Evaluates against `acls` (each a list of OR-ed tests).
    func evaluate<S: SampleSource>(_ acls: [[ACLMatcher]], _ source: inout S) -> Bool {
        var result = false
        for alternative in alternatives {
            var all = true
            for term in alternative {
                var hit = false
                for test in acls[term.acl] where test.matches(&source) {
                    hit = true
                    break
                }
                if hit == term.negated {
                    all = false
                    break
                }
            }
            if all {
                result = true
                break
            }
        }
        return isUnless ? !result : result
    }
}
