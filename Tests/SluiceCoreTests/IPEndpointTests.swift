// SPDX-License-Identifier: Apache-2.0
// IPEndpoint: round trips through sockaddr_in/sockaddr_in6 (built by withSockaddr, read back by init(sockaddr:)),
// the byte order of what the kernel sees, getsockname on real sockets, and the printed forms used in logs.
import Glibc
import XCTest

@testable import SluiceCore

final class IPEndpointTests: XCTestCase {
    private func roundTrip(_ endpoint: IPEndpoint) -> IPEndpoint {
        endpoint.withSockaddr { pointer, length in
            IPEndpoint(sockaddr: UnsafeRawPointer(pointer), length: length)
        }
    }

    private func v6(_ text: String, port: UInt16) -> IPEndpoint {
        var addr = in6_addr()
        XCTAssertEqual(inet_pton(AF_INET6, text, &addr), 1, text)
        var high: UInt64 = 0
        var low: UInt64 = 0
        withUnsafeBytes(of: addr) { bytes in
            for i in 0..<8 { high = (high << 8) | UInt64(bytes[i]) }
            for i in 8..<16 { low = (low << 8) | UInt64(bytes[i]) }
        }
        return IPEndpoint(ipv6High: high, low: low, port: port)
    }

    func testDescription_printsV4AndBracketedV6() {
        XCTAssertEqual(IPEndpoint(ipv4: 0x7F00_0001, port: 80).description, "127.0.0.1:80")
        XCTAssertEqual(IPEndpoint(ipv6High: 0, low: 1, port: 80).description, "[::1]:80")
        XCTAssertEqual(IPEndpoint(ipv4: 0, port: 0).description, "0.0.0.0:0")
        XCTAssertEqual(IPEndpoint(ipv4: 0xFFFF_FFFF, port: 65535).description, "255.255.255.255:65535")
        XCTAssertEqual(v6("2001:db8::42", port: 443).description, "[2001:db8::42]:443")
        XCTAssertEqual(v6("::ffff:10.1.2.3", port: 8080).description, "[::ffff:10.1.2.3]:8080")
        XCTAssertEqual(IPEndpoint(ipv4: 0xC0A8_0001, port: 1).addressText, "192.168.0.1")
        XCTAssertEqual(IPEndpoint.none.description, "-")
        XCTAssertEqual(IPEndpoint(family: .unix, port: 0, high: 0, low: 0).description, "unix")
    }

    func testV4_roundTripsThroughSockaddr_inNetworkByteOrder() {
        for endpoint in [
            IPEndpoint(ipv4: 0x7F00_0001, port: 80), IPEndpoint(ipv4: 0, port: 0),
            IPEndpoint(ipv4: 0xFFFF_FFFF, port: 65535), IPEndpoint(ipv4: 0x0A01_0203, port: 0x1234),
        ] {
            XCTAssertEqual(roundTrip(endpoint), endpoint, endpoint.description)
        }
        IPEndpoint(ipv4: 0x7F00_0001, port: 0x1F90).withSockaddr { pointer, length in
            XCTAssertEqual(Int(length), MemoryLayout<sockaddr_in>.size)
            let sin = UnsafeRawPointer(pointer).load(as: sockaddr_in.self)
            XCTAssertEqual(CInt(sin.sin_family), AF_INET)
            withUnsafeBytes(of: sin.sin_port) { XCTAssertEqual(Array($0), [0x1F, 0x90], "port in network order") }
            withUnsafeBytes(of: sin.sin_addr) { XCTAssertEqual(Array($0), [127, 0, 0, 1], "address in network order") }
        }
        XCTAssertEqual(IPEndpoint(ipv4: 1, port: 1).socketDomain, AF_INET)
    }

    func testV6_roundTripsThroughSockaddr_inNetworkByteOrder() {
        for endpoint in [
            IPEndpoint(ipv6High: 0, low: 1, port: 80), v6("::", port: 0), v6("2001:db8::42", port: 443),
            v6("fe80::1:2:3:4", port: 65535), v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", port: 1),
        ] {
            XCTAssertEqual(roundTrip(endpoint), endpoint, endpoint.description)
        }
        v6("2001:db8::1", port: 0x0102).withSockaddr { pointer, length in
            XCTAssertEqual(Int(length), MemoryLayout<sockaddr_in6>.size)
            let sin6 = UnsafeRawPointer(pointer).load(as: sockaddr_in6.self)
            XCTAssertEqual(CInt(sin6.sin6_family), AF_INET6)
            withUnsafeBytes(of: sin6.sin6_port) { XCTAssertEqual(Array($0), [1, 2]) }
            withUnsafeBytes(of: sin6.sin6_addr) {
                XCTAssertEqual(Array($0), [0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
            }
            XCTAssertEqual(sin6.sin6_flowinfo, 0)
            XCTAssertEqual(sin6.sin6_scope_id, 0)
        }
        XCTAssertEqual(IPEndpoint(ipv6High: 0, low: 1, port: 1).socketDomain, AF_INET6)
    }

    func testInitFromSockaddr_rejectsShortLengthsAndUnknownFamilies() {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = UInt16(80).bigEndian
        withUnsafeBytes(of: &sin) { raw in
            XCTAssertEqual(IPEndpoint(sockaddr: raw.baseAddress!, length: socklen_t(raw.count - 1)), .none)
            XCTAssertEqual(IPEndpoint(sockaddr: raw.baseAddress!, length: socklen_t(raw.count)).port, 80)
        }
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        withUnsafeBytes(of: &sin6) { raw in
            XCTAssertEqual(IPEndpoint(sockaddr: raw.baseAddress!, length: socklen_t(MemoryLayout<sockaddr_in>.size)), .none)
        }
        var storage = sockaddr_storage()
        storage.ss_family = sa_family_t(AF_PACKET)
        withUnsafeBytes(of: &storage) { raw in
            XCTAssertEqual(IPEndpoint(sockaddr: raw.baseAddress!, length: socklen_t(raw.count)), .none)
        }
    }

    func testLocalEndpoint_ofBoundSockets_matchesWhatWasBound() throws {
        let v4 = try Sys.socket(domain: AF_INET, type: CInt(SOCK_STREAM.rawValue))
        defer { Sys.close(v4) }
        try Sys.bind(v4, to: IPEndpoint(ipv4: 0x7F00_0001, port: 0))
        let bound4 = Sys.localEndpoint(v4)
        XCTAssertEqual(bound4.family, .ipv4)
        XCTAssertEqual(bound4.addressText, "127.0.0.1")
        XCTAssertNotEqual(bound4.port, 0, "the kernel chose a port")
        XCTAssertEqual(bound4.description, "127.0.0.1:\(bound4.port)")

        let v6sock: FD
        do { v6sock = try Sys.socket(domain: AF_INET6, type: CInt(SOCK_STREAM.rawValue)) } catch {
            throw XCTSkip("no IPv6 here: \(error)")
        }
        defer { Sys.close(v6sock) }
        do { try Sys.bind(v6sock, to: IPEndpoint(ipv6High: 0, low: 1, port: 0)) } catch {
            throw XCTSkip("cannot bind [::1]: \(error)")
        }
        let bound6 = Sys.localEndpoint(v6sock)
        XCTAssertEqual(bound6.family, .ipv6)
        XCTAssertEqual(bound6.high, 0)
        XCTAssertEqual(bound6.low, 1)
        XCTAssertEqual(bound6.description, "[::1]:\(bound6.port)")
    }

    func testLocalEndpoint_ofUnboundOrClosedSocket() throws {
        let fd = try Sys.socket(domain: AF_INET, type: CInt(SOCK_STREAM.rawValue))
        XCTAssertEqual(Sys.localEndpoint(fd), IPEndpoint(ipv4: 0, port: 0), "unbound: 0.0.0.0:0")
        Sys.close(fd)
        var fds: [CInt] = [-1, -1]
        XCTAssertEqual(pipe(&fds), 0)
        XCTAssertEqual(Sys.localEndpoint(FD(fds[0])), .none, "not a socket")
        Sys.close(FD(fds[0]))
        Sys.close(FD(fds[1]))
    }

    func testEquality_andHashing_areByValue() {
        let a = IPEndpoint(ipv4: 0x7F00_0001, port: 80)
        let b = roundTrip(a)
        XCTAssertEqual(Set([a, b, IPEndpoint(ipv4: 0x7F00_0001, port: 81)]).count, 2)
        XCTAssertNotEqual(IPEndpoint(ipv4: 1, port: 80), IPEndpoint(ipv6High: 0, low: 1, port: 80))
    }
}
