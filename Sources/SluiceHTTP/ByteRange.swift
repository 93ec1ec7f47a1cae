// SPDX-License-Identifier: Apache-2.0
// ByteRange, HTTPVersion, HTTPMethod: the small value types a parsed head is made of. A ByteRange is a pair of
// offsets into the caller's buffer, never a copy of the bytes, so a parsed head owns no memory of its own.

/// Bytes `[start, end)` of the buffer that was parsed, as offsets from its first byte (the first byte of the
/// message, or of the empty lines a request may be preceded by, see `HTTPHead.messageStart`). Offsets fit in
/// 32 bits because a head never exceeds `maxHeadBytes` (clamped below `Int32.max`).
@frozen
public struct ByteRange: Equatable, Sendable {
    /// Offset of the first byte.
    public var start: Int32
    /// Offset one past the last byte.
    public var end: Int32

    /// Number of bytes in the range (0 for an empty range).
    @inlinable
    public var count: Int { Int(end &- start) }

    /// True when the range holds no byte.
    @inlinable
    public var isEmpty: Bool { start == end }

    /// Makes a range from 32-bit offsets; `start <= end` is the caller's promise (checked in debug builds).
    @inlinable
    public init(start: Int32, end: Int32) {
        assert(start <= end, "ByteRange start \(start) > end \(end)")
        self.start = start
        self.end = end
    }

    /// Makes a range from `Int` offsets that fit in 32 bits (traps otherwise: heads are bounded well below).
    @inlinable
    public init(start: Int, end: Int) {
        self.init(start: Int32(start), end: Int32(end))
    }

    /// The empty range at offset 0, used for fields a message does not have.
    public static let empty = ByteRange(start: Int32(0), end: Int32(0))
}

/// The protocol version of a message. HTTP/1.x with x > 1 is read as 1.1 (RFC 9112 §2.3: a recipient treats a
/// higher minor version as the highest it supports); any other major version is refused by the parser.
public enum HTTPVersion: Sendable {
    /// `HTTP/1.0`.
    case http10
    /// `HTTP/1.1`, and `HTTP/1.2` ... `HTTP/1.9`.
    case http11
}

/// The request method, recognised case-sensitively as RFC 9110 §9.1 requires (`get` is `.other`). The exact
/// bytes are always available through `HTTPHead.methodRange`.
public enum HTTPMethod: Sendable {
    /// `GET`.
    case get
    /// `HEAD`: its response never has a body.
    case head
    /// `POST`.
    case post
    /// `PUT`.
    case put
    /// `DELETE`.
    case delete
    /// `CONNECT`: authority-form target, no body; a 2xx response turns the connection into a tunnel.
    case connect
    /// `OPTIONS`: the only method that may use the asterisk-form target `*`.
    case options
    /// `TRACE`.
    case trace
    /// `PATCH`.
    case patch
    /// Any other valid method token (`methodRange` holds it).
    case other
}
