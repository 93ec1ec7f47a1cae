// SPDX-License-Identifier: Apache-2.0
// HeadBuilder: composes a rewritten message head into the loop's scratch area (one per loop: heads are rewritten
// within a single event, one at a time), then puts it in place of the original head in the session's buffer.
// Appending never allocates; overflowing the scratch area is remembered and reported by `install`.
import Glibc
import SluiceCore

/// Writes bytes into a fixed scratch area. Loop-thread only.
struct HeadBuilder {
    let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    private(set) var count = 0
    /// Something did not fit: the head cannot be rewritten (HAProxy answers 500 then).
    private(set) var overflowed = false

    init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !overflowed, count + bytes.count <= capacity else {
            overflowed = true
            return
        }
        if let src = bytes.baseAddress, bytes.count > 0 {
            memcpy(base + count, src, bytes.count)
        }
        count += bytes.count
    }

    mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    mutating func append(byte: UInt8) {
        guard !overflowed, count < capacity else {
            overflowed = true
            return
        }
        base[count] = byte
        count += 1
    }

    /// Forgets what was written after `length` bytes.
    mutating func truncate(to length: Int) {
        if length < count { count = length }
    }

    /// Appends a decimal integer.
    mutating func append(decimal value: Int) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = value.magnitude
        var used = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[used] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
                used += 1
            } while n > 0
            if value < 0 { append(byte: UInt8(ascii: "-")) }
            for i in stride(from: used - 1, through: 0, by: -1) { append(byte: d[i]) }
        }
    }

    /// Appends an IP address (no port) as text.
    mutating func append(address endpoint: IPEndpoint) {
        var line = LineBuffer(capacity: 0)
        if endpoint.family == .ipv4 {
            let a = endpoint.ipv4Address
            append(decimal: Int(a >> 24))
            append(byte: UInt8(ascii: "."))
            append(decimal: Int((a >> 16) & 255))
            append(byte: UInt8(ascii: "."))
            append(decimal: Int((a >> 8) & 255))
            append(byte: UInt8(ascii: "."))
            append(decimal: Int(a & 255))
        } else {
            line.append(endpoint.addressText)
            line.withBytes { append($0) }
        }
    }

    /// Replaces the `oldHeadLength` bytes at the front of `buffer` with the built head. The bytes after the old
    /// head (body, next request) move accordingly. Returns false when the new head does not fit (the caller
    /// answers 500); the buffer is untouched then.
    func install(into buffer: inout IOBuffer, replacing oldHeadLength: Int) -> Bool {
        guard !overflowed else { return false }
        let rest = buffer.count - oldHeadLength
        guard count + rest <= Int(buffer.capacity) else { return false }
        if count + rest > Int(buffer.capacity) - Int(buffer.head) { buffer.compact() }
        let start = Int(buffer.head)
        let base = buffer.base! + start
        if count != oldHeadLength && rest > 0 {
            memmove(base + count, base + oldHeadLength, rest)
        }
        memcpy(base, self.base, count)
        buffer.tail = Int32(start + count + rest)
        return true
    }
}
