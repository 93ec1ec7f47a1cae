// SPDX-License-Identifier: Apache-2.0
// AddressParser: HAProxy address syntax (str2sa_range) for bind, server and log lines: `host:port`, `[v6]:port`,
// `:::port`, `*:port`, family prefixes (`ipv4@`, `ipv6@`, `unix@`, `fd@`, `udp@`), ports and port ranges. Numeric
// addresses are parsed here (inet_pton); names go to the environment's resolver. Returns messages, never throws.

#if canImport(Glibc)
import Glibc
#endif

/// Address-family prefix of an address word (`ipv4@`, `unix@`...).
enum AddressPrefix: Equatable {
    case none
    case ipv4
    case ipv6
    case unix
    case fd
    case udp
    case udp4
    case udp6
    /// Known to HAProxy, not supported by sluice (`abns@`, `sockpair@`, `quic4@`, ...).
    case unsupported(String)
}

/// Address parsing shared by bind, server and log lines.
enum AddressParser {
    /// Prefixes HAProxy 2.6 knows that sluice does not support.
    private static let unsupportedPrefixes: Set<String> = [
        "abns", "sockpair", "quic4", "quic6", "uxst", "uxdg", "ring",
    ]

    /// Splits `prefix@rest`. A word without `@`, or whose `@` comes after a `/` or `:` (not a prefix), has none.
    /// Fails with a message for an unknown prefix.
    static func splitPrefix(_ word: String) -> Result<(AddressPrefix, String), AddressError> {
        let bytes = Array(word.utf8)
        guard let at = bytes.firstIndex(of: UInt8(ascii: "@")),
            !bytes[..<at].contains(UInt8(ascii: "/")), !bytes[..<at].contains(UInt8(ascii: ":"))
        else {
            return .success((.none, word))
        }
        let name = String(decoding: bytes[..<at], as: UTF8.self)
        let rest = String(decoding: bytes[(at + 1)...], as: UTF8.self)
        switch name {
        case "tcp": return .success((.none, rest))
        case "ipv4", "tcp4": return .success((.ipv4, rest))
        case "ipv6", "tcp6": return .success((.ipv6, rest))
        case "unix": return .success((.unix, rest))
        case "fd": return .success((.fd, rest))
        case "udp": return .success((.udp, rest))
        case "udp4": return .success((.udp4, rest))
        case "udp6": return .success((.udp6, rest))
        default:
            if unsupportedPrefixes.contains(name) { return .success((.unsupported(name + "@"), rest)) }
            return .failure(AddressError("unknown address family '\(name)@' in '\(word)'"))
        }
    }

    /// A numeric IPv4 address (dotted quad), host byte order.
    static func ipv4(_ text: String) -> UInt32? {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return UInt32(bigEndian: address.s_addr)
    }

    /// A numeric IPv6 address.
    static func ipv6(_ text: String) -> IPv6Bytes? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: address) { Array($0) }
        return IPv6Bytes(bytes: bytes)
    }

    /// Splits `host:port` at the last colon, or `[v6]:port`. `port` is nil when there is no colon (or only a
    /// bracketed address). `:::80` is host `::`, port `80`, as HAProxy reads it.
    static func splitHostPort(_ text: String) -> (host: String, port: String?) {
        let bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "["), let close = bytes.firstIndex(of: UInt8(ascii: "]")) {
            let host = String(decoding: bytes[1..<close], as: UTF8.self)
            let rest = bytes[(close + 1)...]
            if rest.first == UInt8(ascii: ":") {
                return (host, String(decoding: rest.dropFirst(), as: UTF8.self))
            }
            return (host, rest.isEmpty ? nil : String(decoding: rest, as: UTF8.self))
        }
        guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")) else { return (text, nil) }
        return (
            String(decoding: bytes[..<colon], as: UTF8.self), String(decoding: bytes[(colon + 1)...], as: UTF8.self)
        )
    }

    /// A port number 1...65535.
    static func port(_ text: String) -> UInt16? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), text.utf8.count <= 5,
            let value = Int(text), value >= 1, value <= 65535
        else { return nil }
        return UInt16(value)
    }

    /// Which families a host may resolve to.
    enum Family {
        case any
        case ipv4
        case ipv6
    }

    /// Resolves `host` (numeric first, then the environment's resolver) to an address with `port`. An empty host or
    /// `*` is the IPv4 any address (IPv6 any with family `.ipv6`) when `allowAny` is set.
    static func resolve(
        host: String,
        port: UInt16,
        family: Family,
        allowAny: Bool,
        environment: ConfigEnvironment
    ) -> NetworkAddress? {
        if allowAny && (host.isEmpty || host == "*") {
            return family == .ipv6
                ? .ipv6(address: IPv6Bytes(high: 0, low: 0), port: port) : .ipv4(address: 0, port: port)
        }
        if family != .ipv6, let v4 = ipv4(host) { return .ipv4(address: v4, port: port) }
        if family != .ipv4, let v6 = ipv6(host) { return .ipv6(address: v6, port: port) }
        if host.isEmpty || ipv4(host) != nil || ipv6(host) != nil { return nil }
        guard let resolved = environment.resolveHost(host) else { return nil }
        switch (resolved, family) {
        case (.ipv4(let a, _), .any), (.ipv4(let a, _), .ipv4):
            return .ipv4(address: a, port: port)
        case (.ipv6(let a, _), .any), (.ipv6(let a, _), .ipv6):
            return .ipv6(address: a, port: port)
        default:
            return nil
        }
    }
}

/// A message about an address that did not parse (without file:line; the caller adds its context).
struct AddressError: Error, Equatable {
    var message: String

    /// Wraps a message.
    init(_ message: String) { self.message = message }
}
