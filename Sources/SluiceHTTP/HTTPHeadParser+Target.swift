// SPDX-License-Identifier: Apache-2.0
// HTTPHeadParser, request target: tells the four forms of RFC 9112 §3.2 apart and splits them into scheme,
// authority, path and query ranges. The bytes were already checked by the request line (visible ASCII, no `#`);
// this file checks the form against the method.

extension HTTPHeadParser {
    /// Splits the target `[start, end)` (non-empty) according to its form: origin-form (`/path?query`),
    /// absolute-form (`scheme://authority/path?query`, no userinfo, non-empty authority), authority-form
    /// (`host:port`, CONNECT only, and CONNECT only accepts it) and asterisk-form (`*`, OPTIONS only).
    static func parseTarget(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        to end: Int,
        into head: HTTPHead
    ) throws(HTTPParseError) {
        if head.method == .connect {
            try parseAuthorityForm(bytes, from: start, to: end, into: head)
            return
        }
        let first = bytes[start]
        if first == UInt8(ascii: "/") {
            splitPathAndQuery(bytes, from: start, to: end, into: head)
        } else if first == UInt8(ascii: "*") {
            guard end - start == 1, head.method == .options else { throw .badTarget }
            head.pathRange = ByteRange(start: start, end: end)
        } else if (first | 0x20) &- 0x61 < 26 {
            try parseAbsoluteForm(bytes, from: start, to: end, into: head)
        } else {
            throw .badTarget
        }
    }

    /// `scheme "://" authority path-abempty [ "?" query ]`. The authority must be non-empty and made of host
    /// characters only: userinfo (`@`) is refused, as RFC 9110 §4.2.4 advises.
    static func parseAbsoluteForm(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        to end: Int,
        into head: HTTPHead
    ) throws(HTTPParseError) {
        var i = start + 1
        while i < end && ByteClass.isSchemeChar(bytes[i]) { i += 1 }
        guard end - i >= 3, bytes[i] == ByteClass.colon, bytes[i + 1] == UInt8(ascii: "/"),
            bytes[i + 2] == UInt8(ascii: "/")
        else { throw .badTarget }
        head.schemeRange = ByteRange(start: start, end: i)
        let authorityStart = i + 3
        i = authorityStart
        while i < end && bytes[i] != UInt8(ascii: "/") && bytes[i] != UInt8(ascii: "?") {
            guard ByteClass.isAuthorityChar(bytes[i]) else { throw .badTarget }
            i += 1
        }
        guard i > authorityStart else { throw .badTarget }
        head.authorityRange = ByteRange(start: authorityStart, end: i)
        splitPathAndQuery(bytes, from: i, to: end, into: head)
    }

    /// `uri-host ":" port` for CONNECT (RFC 9112 §3.2.3): host characters, a non-empty host and a non-empty
    /// decimal port after the last colon (so `[::1]:443` works).
    static func parseAuthorityForm(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        to end: Int,
        into head: HTTPHead
    ) throws(HTTPParseError) {
        var lastColon = -1
        for i in start..<end {
            let byte = bytes[i]
            guard ByteClass.isAuthorityChar(byte) else { throw .badTarget }
            if byte == ByteClass.colon { lastColon = i }
        }
        guard lastColon > start, lastColon + 1 < end else { throw .badTarget }
        for i in (lastColon + 1)..<end where bytes[i] &- 0x30 >= 10 { throw .badTarget }
        head.authorityRange = ByteRange(start: start, end: end)
        head.pathRange = ByteRange(start: end, end: end)
    }

    /// Sets `pathRange` to `[start, first "?")` and `queryRange` to what follows the `?` (nil without one).
    static func splitPathAndQuery(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, into head: HTTPHead) {
        var i = start
        while i < end && bytes[i] != UInt8(ascii: "?") { i += 1 }
        head.pathRange = ByteRange(start: start, end: i)
        head.queryRange = i < end ? ByteRange(start: i + 1, end: end) : nil
    }
}
