// SPDX-License-Identifier: Apache-2.0
// IPEndpoint: an IPv4 or IPv6 address and port in 24 bytes, small enough to keep in every session (the client's
// address for logs and ACLs) and cheap to turn into a sockaddr on the stack for connect/bind.
import CSluiceSys
import Glibc

/// An IPv4/IPv6 address with a port, or `.none`. Stored compactly (no sockaddr_storage): addresses are kept in
/// network byte order inside two 64-bit words so that equality and hashing are trivial.
@frozen
public struct IPEndpoint: Hashable, Sendable, CustomStringConvertible {
    public enum Family: UInt8, Sendable {
        case none = 0
        case ipv4 = 4
        case ipv6 = 6
        /// A unix socket peer (no address worth keeping).
        case unix = 1
    }

    public var family: Family
    /// Port in host byte order.
    public var port: UInt16
    /// IPv4: the address in host byte order in the low 32 bits of `high`. IPv6: bytes 0-7 (network order) in
    /// `high`, bytes 8-15 in `low`, each read as a big-endian integer.
    public var high: UInt64
    public var low: UInt64

    public static let none = IPEndpoint(family: .none, port: 0, high: 0, low: 0)

    @inlinable
    public init(family: Family, port: UInt16, high: UInt64, low: UInt64) {
        self.family = family
        self.port = port
        self.high = high
        self.low = low
    }

    /// IPv4 address in host byte order.
    public init(ipv4 address: UInt32, port: UInt16) {
        self.init(family: .ipv4, port: port, high: UInt64(address), low: 0)
    }

    /// IPv6 address as two big-endian halves.
    public init(ipv6High high: UInt64, low: UInt64, port: UInt16) {
        self.init(family: .ipv6, port: port, high: high, low: low)
    }

    /// The IPv4 address in host order (only meaningful for `.ipv4`).
    @inlinable
    public var ipv4Address: UInt32 { UInt32(truncatingIfNeeded: high) }

    /// Reads a sockaddr filled by accept/getsockname/getpeername.
    public init(sockaddr: UnsafeRawPointer, length: socklen_t) {
        let family = sockaddr.load(as: sa_family_t.self)
        switch CInt(family) {
        case AF_INET where length >= MemoryLayout<sockaddr_in>.size:
            let sin = sockaddr.load(as: sockaddr_in.self)
            self.init(ipv4: UInt32(bigEndian: sin.sin_addr.s_addr), port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6 where length >= MemoryLayout<sockaddr_in6>.size:
            let sin6 = sockaddr.load(as: sockaddr_in6.self)
            var high: UInt64 = 0
            var low: UInt64 = 0
            withUnsafeBytes(of: sin6.sin6_addr) { bytes in
                for i in 0..<8 { high = (high << 8) | UInt64(bytes[i]) }
                for i in 8..<16 { low = (low << 8) | UInt64(bytes[i]) }
            }
            self.init(ipv6High: high, low: low, port: UInt16(bigEndian: sin6.sin6_port))
        case AF_UNIX:
            self.init(family: .unix, port: 0, high: 0, low: 0)
        default:
            self = .none
        }
    }

    /// Calls `body` with a sockaddr for this endpoint built on the stack. Not valid for `.none`/`.unix`.
    @inlinable
    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        switch family {
        case .ipv6:
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { bytes in
                for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i))) }
                for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i))) }
            }
            return withUnsafePointer(to: &sin6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        default:
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr.s_addr = ipv4Address.bigEndian
            return withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// The socket domain (AF_INET/AF_INET6) to create a socket that can connect to or bind this endpoint.
    public var socketDomain: CInt { family == .ipv6 ? AF_INET6 : AF_INET }

    /// The address without the port, as HAProxy prints it in logs (`127.0.0.1`, `::1`).
    public var addressText: String {
        switch family {
        case .none: return "-"
        case .unix: return "unix"
        case .ipv4:
            let a = ipv4Address
            return "\(a >> 24).\((a >> 16) & 255).\((a >> 8) & 255).\(a & 255)"
        case .ipv6:
            var sin6addr = in6_addr()
            withUnsafeMutableBytes(of: &sin6addr) { bytes in
                for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i))) }
                for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i))) }
            }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = inet_ntop(AF_INET6, &sin6addr, &text, socklen_t(text.count))
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// `addr:port` (IPv6 in brackets).
    public var description: String {
        switch family {
        case .ipv6: return "[\(addressText)]:\(port)"
        case .ipv4: return "\(addressText):\(port)"
        default: return addressText
        }
    }
}
