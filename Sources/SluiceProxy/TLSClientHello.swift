// SPDX-License-Identifier: Apache-2.0
// TLSClientHello: reads the first TLS record a client sent, without terminating TLS, for `req.ssl_hello_type`
// and `req.ssl_sni` (SNI passthrough in TCP mode). Bounds-checked byte walking over the request buffer; never
// allocates. Only the first record is inspected, as HAProxy does.

/// What the first bytes of a connection say about TLS.
enum TLSClientHello {
    /// More bytes are needed to decide.
    case incomplete
    /// Not a TLS handshake record.
    case notHandshake
    /// A handshake message of `type` (1 = ClientHello) with the SNI host name's byte range when present.
    case handshake(type: Int, serverName: Range<Int>?)

    /// Inspects `bytes` (the start of the client's data).
    static func inspect(_ bytes: UnsafeRawBufferPointer) -> TLSClientHello {
        // Record header: type(1) = 22 handshake, version(2) = 3.x, length(2).
        guard bytes.count >= 5 else { return bytes.isEmpty || bytes[0] == 22 ? .incomplete : .notHandshake }
        guard bytes[0] == 22, bytes[1] == 3 else { return .notHandshake }
        let recordLength = Int(bytes[3]) << 8 | Int(bytes[4])
        guard recordLength >= 4 else { return .notHandshake }
        let recordEnd = 5 + recordLength
        // Handshake header: type(1), length(3).
        guard bytes.count >= 9 else { return .incomplete }
        let type = Int(bytes[5])
        guard type == 1 else { return .handshake(type: type, serverName: nil) }
        guard bytes.count >= recordEnd else { return .incomplete }
        return .handshake(type: 1, serverName: serverName(bytes, from: 9, to: recordEnd))
    }

    /// The SNI host_name in a ClientHello body spanning [start, end), if well formed.
    private static func serverName(_ b: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Range<Int>? {
        var p = start + 2 + 32  // client_version, random
        func u8() -> Int? {
            guard p + 1 <= end else { return nil }
            defer { p += 1 }
            return Int(b[p])
        }
        func u16() -> Int? {
            guard p + 2 <= end else { return nil }
            defer { p += 2 }
            return Int(b[p]) << 8 | Int(b[p + 1])
        }
        guard let sessionIDLength = u8() else { return nil }
        p += sessionIDLength
        guard let cipherSuitesLength = u16() else { return nil }
        p += cipherSuitesLength
        guard let compressionLength = u8() else { return nil }
        p += compressionLength
        guard let extensionsLength = u16() else { return nil }
        let extensionsEnd = min(end, p + extensionsLength)
        while p + 4 <= extensionsEnd {
            guard let extType = u16(), let extLength = u16() else { return nil }
            let extEnd = p + extLength
            guard extEnd <= extensionsEnd else { return nil }
            if extType == 0 {
                // server_name: list length(2), then entries of name_type(1), length(2), name.
                guard let _ = u16() else { return nil }
                while p + 3 <= extEnd {
                    guard let nameType = u8(), let nameLength = u16() else { return nil }
                    guard p + nameLength <= extEnd else { return nil }
                    if nameType == 0 { return p..<(p + nameLength) }
                    p += nameLength
                }
                return nil
            }
            p = extEnd
        }
        return nil
    }
}
