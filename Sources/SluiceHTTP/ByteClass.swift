// SPDX-License-Identifier: Apache-2.0
// ByteClass: the character classes of RFC 9110/9112 as constant bitmasks, so the parser's byte loops test a
// class with a shift and an AND: no table to initialise lazily, no memory touched. Internal to the module.

/// Byte classes used by the head parser and the body framer.
@usableFromInline
enum ByteClass {
    @usableFromInline static let cr: UInt8 = 0x0D
    @usableFromInline static let lf: UInt8 = 0x0A
    @usableFromInline static let space: UInt8 = 0x20
    @usableFromInline static let tab: UInt8 = 0x09
    @usableFromInline static let colon: UInt8 = 0x3A
    @usableFromInline static let comma: UInt8 = 0x2C

    /// Tests `byte` against a 128-bit class given as two 64-bit halves (bytes >= 128 are never in a class).
    @inline(__always)
    @usableFromInline
    static func isIn(_ byte: UInt8, low: UInt64, high: UInt64) -> Bool {
        if byte < 64 { return (low >> UInt64(byte)) & 1 != 0 }
        if byte < 128 { return (high >> UInt64(byte &- 64)) & 1 != 0 }
        return false
    }

    /// `tchar` (RFC 9110 §5.6.2): the characters of a token (method, header name, coding, Connection option).
    @inline(__always)
    @usableFromInline
    static func isTokenChar(_ byte: UInt8) -> Bool {
        isIn(byte, low: 0x03FF_6CFA_0000_0000, high: 0x57FF_FFFF_C7FF_FFFE)
    }

    /// The characters of a Host value or URI authority: unreserved, pct-encoded's `%`, sub-delims, `:` (port) and
    /// `[` `]` (IP literals) (RFC 3986 §3.2). `@` is not among them: userinfo is refused (RFC 9110 §4.2.4).
    @inline(__always)
    @usableFromInline
    static func isAuthorityChar(_ byte: UInt8) -> Bool {
        isIn(byte, low: 0x2FFF_7FF2_0000_0000, high: 0x47FF_FFFE_AFFF_FFFE)
    }

    /// The characters after the first letter of a URI scheme: ALPHA, DIGIT, `+`, `-`, `.` (RFC 3986 §3.1).
    @inline(__always)
    @usableFromInline
    static func isSchemeChar(_ byte: UInt8) -> Bool {
        isIn(byte, low: 0x03FF_6800_0000_0000, high: 0x07FF_FFFE_07FF_FFFE)
    }

    /// A request-target byte: visible ASCII (0x21-0x7E) except `#`, which starts a fragment a client must not
    /// send (RFC 9112 §3.2; HAProxy 2.6.15+ refuses it too). Controls, space, DEL and non-ASCII are refused.
    @inline(__always)
    @usableFromInline
    static func isTargetChar(_ byte: UInt8) -> Bool {
        byte &- 0x21 < 0x5E && byte != 0x23
    }

    /// A field-value byte (RFC 9110 §5.5): HTAB, SP, VCHAR and obs-text. Every other control, DEL included, is
    /// refused, which covers NUL, CR and LF.
    @inline(__always)
    @usableFromInline
    static func isFieldValueChar(_ byte: UInt8) -> Bool {
        byte == tab || (byte >= space && byte != 0x7F)
    }

    /// SP or HTAB: optional whitespace (OWS) around values and list elements.
    @inline(__always)
    @usableFromInline
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab
    }

    /// ASCII letters folded to lowercase; every other byte unchanged.
    @inline(__always)
    @usableFromInline
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always)
    @usableFromInline
    static func hexValue(_ byte: UInt8) -> UInt8? {
        if byte &- 0x30 < 10 { return byte &- 0x30 }
        let folded = byte | 0x20
        if folded &- 0x61 < 6 { return folded &- 0x61 &+ 10 }
        return nil
    }
}
