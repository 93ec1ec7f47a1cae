// SPDX-License-Identifier: Apache-2.0
// LineBuffer: a reusable byte buffer for building one log line or one small response without allocating:
// its storage is reserved once and cleared, never shrunk, between lines.
import SluiceCore

/// Bytes being assembled into one line. Reused: `reset()` keeps the capacity.
struct LineBuffer {
    private(set) var bytes: [UInt8]

    /// A buffer with `capacity` bytes reserved.
    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    var count: Int { bytes.count }

    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ text: String) {
        var t = text
        t.withUTF8 { bytes.append(contentsOf: $0) }
    }

    mutating func append(byte: UInt8) { bytes.append(byte) }

    mutating func append(bytes other: UnsafeRawBufferPointer) { bytes.append(contentsOf: other) }

    /// Appends a decimal integer without going through String.
    mutating func append(_ value: Int) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            append(UInt64(value.magnitude))
        } else {
            append(UInt64(value))
        }
    }

    mutating func append(_ value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while n > 0 {
                d[count] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(d[i]) }
        }
    }

    /// Appends `value` with at least `width` digits, zero-padded.
    mutating func append(_ value: Int, width: Int) {
        var digits = 1
        var v = value
        while v >= 10 {
            v /= 10
            digits += 1
        }
        if digits < width {
            for _ in digits..<width { bytes.append(UInt8(ascii: "0")) }
        }
        append(value)
    }

    /// Appends an IP endpoint's address (no port).
    mutating func appendAddress(_ endpoint: IPEndpoint) {
        if endpoint.family == .ipv4 {
            let a = endpoint.ipv4Address
            append(Int(a >> 24))
            append(byte: UInt8(ascii: "."))
            append(Int((a >> 16) & 255))
            append(byte: UInt8(ascii: "."))
            append(Int((a >> 8) & 255))
            append(byte: UInt8(ascii: "."))
            append(Int(a & 255))
        } else {
            append(endpoint.addressText)
        }
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        bytes.withUnsafeBytes(body)
    }
}
