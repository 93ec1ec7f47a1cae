// SPDX-License-Identifier: Apache-2.0
// Byte-level helpers for the proxy's rules over a parsed head: case-insensitive comparison of a range with a
// name, finding the n-th header with a given name, iterating the elements of a comma-separated list value.
// They read the caller's buffer through ranges and never allocate.

/// Comparisons of byte ranges with ASCII names, as header names and tokens are compared (case-insensitive for
/// ASCII letters only). The bytes are the buffer the head was parsed from, borrowed for the call.
public enum HTTPBytes {
    /// True when `range` of `bytes` equals `name`, ignoring the case of ASCII letters.
    @inlinable
    public static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ range: ByteRange, _ name: StaticString)
        -> Bool
    {
        equalsIgnoringCase(bytes, range, UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    /// True when `range` of `bytes` equals the bytes of `name`, ignoring the case of ASCII letters.
    @inlinable
    public static func equalsIgnoringCase(
        _ bytes: UnsafeRawBufferPointer,
        _ range: ByteRange,
        _ name: UnsafeRawBufferPointer
    ) -> Bool {
        guard range.count == name.count else { return false }
        let start = Int(range.start)
        for k in 0..<name.count where ByteClass.lowercased(bytes[start + k]) != ByteClass.lowercased(name[k]) {
            return false
        }
        return true
    }

    /// True when `range` of `bytes` equals `text` exactly (case-sensitive, as paths and methods are compared).
    @inlinable
    public static func equals(_ bytes: UnsafeRawBufferPointer, _ range: ByteRange, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        let start = Int(range.start)
        let literal = text.utf8Start
        for k in 0..<range.count where bytes[start + k] != literal[k] { return false }
        return true
    }

    /// True when the comma-separated list in `range` has an element equal to `token` ignoring case
    /// (`Connection: keep-alive, Upgrade` contains `upgrade`).
    @inlinable
    public static func listContains(_ bytes: UnsafeRawBufferPointer, _ range: ByteRange, _ token: StaticString)
        -> Bool
    {
        var elements = HTTPListElements(bytes, in: range)
        while let element = elements.next() {
            if equalsIgnoringCase(bytes, element, token) { return true }
        }
        return false
    }
}

/// The elements of a comma-separated list value (RFC 9110 §5.6.1), without surrounding OWS; empty elements are
/// skipped. Quoted strings are not special: a comma inside quotes splits too (no list the proxy reads quotes).
/// Borrows `bytes` for as long as it is iterated.
public struct HTTPListElements: IteratorProtocol {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline var position: Int
    @usableFromInline let end: Int

    /// Iterates the list held in `range` of `bytes`.
    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer, in range: ByteRange) {
        self.bytes = bytes
        position = Int(range.start)
        end = Int(range.end)
    }

    /// The next non-empty element, or nil at the end of the value.
    @inlinable
    public mutating func next() -> ByteRange? {
        while position < end {
            let byte = bytes[position]
            if byte == ByteClass.comma || ByteClass.isWhitespace(byte) {
                position += 1
                continue
            }
            let start = position
            while position < end && bytes[position] != ByteClass.comma { position += 1 }
            var elementEnd = position
            while elementEnd > start && ByteClass.isWhitespace(bytes[elementEnd - 1]) { elementEnd -= 1 }
            return ByteRange(start: start, end: elementEnd)
        }
        return nil
    }
}

/// A header value split the way HAProxy's `hdr()` / `hdr_cnt()` fetches see it: at each comma outside a
/// double-quoted string (a backslash escapes inside one), each element without surrounding OWS, and empty
/// elements kept (`a,,b` has three, an empty value has one), so that ACLs count and match exactly as in HAProxy.
/// Borrows `bytes` for as long as it is iterated.
public struct HTTPFieldValues: IteratorProtocol {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline var position: Int
    @usableFromInline let end: Int
    @usableFromInline var isDone = false

    /// Iterates the value held in `range` of `bytes`.
    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer, in range: ByteRange) {
        self.bytes = bytes
        position = Int(range.start)
        end = Int(range.end)
    }

    /// The next element (possibly empty), or nil after the last.
    @inlinable
    public mutating func next() -> ByteRange? {
        guard !isDone else { return nil }
        var stop = position
        var isQuoted = false
        while stop < end {
            let byte = bytes[stop]
            if isQuoted {
                if byte == UInt8(ascii: "\\") {
                    stop += 1
                } else if byte == UInt8(ascii: "\"") {
                    isQuoted = false
                }
            } else if byte == UInt8(ascii: "\"") {
                isQuoted = true
            } else if byte == ByteClass.comma {
                break
            }
            stop += 1
        }
        stop = min(stop, end)
        var start = position
        var elementEnd = stop
        while start < elementEnd && ByteClass.isWhitespace(bytes[start]) { start += 1 }
        while elementEnd > start && ByteClass.isWhitespace(bytes[elementEnd - 1]) { elementEnd -= 1 }
        if stop >= end { isDone = true } else { position = stop + 1 }
        return ByteRange(start: start, end: elementEnd)
    }
}

extension HTTPHead {
    /// The index of the `occurrence`-th header named `name` (case-insensitive): 0 is the first, 1 the second,
    /// -1 the last, -2 the one before (HAProxy's `hdr(name,occ)` numbering, shifted to 0-based for positive
    /// values). Nil when there are not that many. `bytes` is the buffer the head was parsed from.
    public func headerIndex(named name: StaticString, occurrence: Int = 0, in bytes: UnsafeRawBufferPointer) -> Int? {
        headerIndex(
            named: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount),
            occurrence: occurrence,
            in: bytes
        )
    }

    /// Same as `headerIndex(named:occurrence:in:)` with a name held in bytes (a name from the configuration).
    public func headerIndex(named name: UnsafeRawBufferPointer, occurrence: Int = 0, in bytes: UnsafeRawBufferPointer)
        -> Int?
    {
        if occurrence >= 0 {
            var remaining = occurrence
            for index in 0..<headerCount where HTTPBytes.equalsIgnoringCase(bytes, self.name(at: index), name) {
                if remaining == 0 { return index }
                remaining -= 1
            }
        } else {
            var remaining = -occurrence - 1
            for index in stride(from: headerCount - 1, through: 0, by: -1)
            where HTTPBytes.equalsIgnoringCase(bytes, self.name(at: index), name) {
                if remaining == 0 { return index }
                remaining -= 1
            }
        }
        return nil
    }

    /// How many header lines are named `name` (case-insensitive): HAProxy's `hdr_cnt` counts values, this
    /// counts lines; a list value is split with `HTTPListElements`.
    public func headerLineCount(named name: StaticString, in bytes: UnsafeRawBufferPointer) -> Int {
        var count = 0
        for index in 0..<headerCount where HTTPBytes.equalsIgnoringCase(bytes, self.name(at: index), name) {
            count += 1
        }
        return count
    }
}
