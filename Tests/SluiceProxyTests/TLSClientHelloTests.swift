// SPDX-License-Identifier: Apache-2.0
// TLSClientHello: the first record of a client, as read for req.ssl_hello_type and req.ssl_sni.
import XCTest

@testable import SluiceProxy

final class TLSClientHelloTests: XCTestCase {
    /// A ClientHello record carrying `sni` (and one other extension before it).
    private func clientHello(sni: String?) -> [UInt8] {
        var body: [UInt8] = [3, 3] + [UInt8](repeating: 7, count: 32)  // version, random
        body += [0]  // session id
        body += [0, 4, 0x13, 0x01, 0x13, 0x02]  // cipher suites
        body += [1, 0]  // compression
        var extensions: [UInt8] = [0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]  // ec_point_formats
        if let sni {
            let name = Array(sni.utf8)
            let entry: [UInt8] = [0] + [UInt8(name.count >> 8), UInt8(name.count & 255)] + name
            let list: [UInt8] = [UInt8(entry.count >> 8), UInt8(entry.count & 255)] + entry
            extensions += [0, 0, UInt8(list.count >> 8), UInt8(list.count & 255)] + list
        }
        body += [UInt8(extensions.count >> 8), UInt8(extensions.count & 255)] + extensions
        let handshake: [UInt8] = [1, 0, UInt8(body.count >> 8), UInt8(body.count & 255)] + body
        return [22, 3, 1, UInt8(handshake.count >> 8), UInt8(handshake.count & 255)] + handshake
    }

    private func inspect(_ bytes: [UInt8]) -> TLSClientHello {
        bytes.withUnsafeBytes { TLSClientHello.inspect($0) }
    }

    func testInspect_clientHelloWithSNI_givesTypeAndName() {
        let bytes = clientHello(sni: "b.example")
        guard case .handshake(let type, let range?) = inspect(bytes) else { return XCTFail("\(inspect(bytes))") }
        XCTAssertEqual(type, 1)
        XCTAssertEqual(String(decoding: bytes[range], as: UTF8.self), "b.example")
    }

    func testInspect_withoutSNI_givesTypeOnly() {
        guard case .handshake(1, nil) = inspect(clientHello(sni: nil)) else { return XCTFail() }
    }

    func testInspect_everyTruncation_isIncomplete() {
        let bytes = clientHello(sni: "a.example")
        for n in 0..<bytes.count {
            guard case .incomplete = inspect(Array(bytes.prefix(n))) else {
                return XCTFail("prefix of \(n) bytes should be incomplete, got \(inspect(Array(bytes.prefix(n))))")
            }
        }
    }

    func testInspect_plaintextHTTP_isNotHandshake() {
        guard case .notHandshake = inspect(Array("GET / HTTP/1.1\r\n".utf8)) else { return XCTFail() }
    }

    func testInspect_corruptLengths_neverCrash() {
        var bytes = clientHello(sni: "x.example")
        for i in 5..<bytes.count {
            let saved = bytes[i]
            bytes[i] = 0xFF
            _ = inspect(bytes)
            bytes[i] = saved
        }
    }
}
