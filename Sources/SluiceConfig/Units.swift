// SPDX-License-Identifier: Apache-2.0
// Units: integers, times (`us ms s m h d`, default ms) and sizes (`k m g`, 1024-based) as HAProxy writes them, and
// the exact messages for values that do not parse. Pure functions over bytes.

/// Parsing of numbers with units, and the diagnostics for bad ones.
enum Units {
    /// Largest time or size sluice accepts: HAProxy keeps both in a signed 32-bit int.
    static let maxValue = Int(Int32.max)

    /// Why a time or size did not parse.
    enum ParseError: Error, Equatable {
        case empty
        case notANumber
        case badUnit(String)
        case overflow
    }

    /// A decimal integer (optional leading `-`), nil for anything else or beyond Int32.
    static func integer(_ word: String) -> Int? {
        var bytes = Array(word.utf8)[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            bytes = bytes.dropFirst()
        }
        guard !bytes.isEmpty else { return nil }
        var value = 0
        for c in bytes {
            guard c >= 48 && c <= 57 else { return nil }
            value = value * 10 + Int(c - 48)
            if value > maxValue + 1 { return nil }
        }
        value = negative ? -value : value
        guard value >= Int(Int32.min) && value <= maxValue else { return nil }
        return value
    }

    /// A time in milliseconds: digits then an optional unit `us`, `ms`, `s`, `m`, `h` or `d` (no unit: ms).
    /// Microseconds round up so that a non-zero value never becomes 0 ms.
    static func milliseconds(_ word: String) -> Result<Int, ParseError> {
        let bytes = Array(word.utf8)
        guard !bytes.isEmpty else { return .failure(.empty) }
        var value = 0
        var i = 0
        while i < bytes.count && bytes[i] >= 48 && bytes[i] <= 57 {
            value = value * 10 + Int(bytes[i] - 48)
            if value > Int(Int32.max) * 1000 { return .failure(.overflow) }
            i += 1
        }
        guard i > 0 else { return .failure(.notANumber) }
        let unit = String(decoding: bytes[i...], as: UTF8.self)
        if unit == "us" {
            let result = (value + 999) / 1000
            return result <= maxValue ? .success(result) : .failure(.overflow)
        }
        let multiplier: Int
        switch unit {
        case "", "ms": multiplier = 1
        case "s": multiplier = 1000
        case "m": multiplier = 60_000
        case "h": multiplier = 3_600_000
        case "d": multiplier = 86_400_000
        default: return .failure(.badUnit(unit))
        }
        // Compare before multiplying: the product of two large values would trap.
        guard value <= maxValue / multiplier else { return .failure(.overflow) }
        return .success(value * multiplier)
    }

    /// A size in bytes: digits then an optional `k`, `m` or `g` (either case), multiples of 1024.
    static func bytes(_ word: String) -> Result<Int, ParseError> {
        let bytes = Array(word.utf8)
        guard !bytes.isEmpty else { return .failure(.empty) }
        var value = 0
        var i = 0
        while i < bytes.count && bytes[i] >= 48 && bytes[i] <= 57 {
            value = value * 10 + Int(bytes[i] - 48)
            if value > maxValue { return .failure(.overflow) }
            i += 1
        }
        guard i > 0 else { return .failure(.notANumber) }
        let unit = String(decoding: bytes[i...], as: UTF8.self)
        let multiplier: Int
        switch unit {
        case "": multiplier = 1
        case "k", "K": multiplier = 1024
        case "m", "M": multiplier = 1024 * 1024
        case "g", "G": multiplier = 1024 * 1024 * 1024
        default: return .failure(.badUnit(unit))
        }
        guard value <= maxValue / multiplier else { return .failure(.overflow) }
        return .success(value * multiplier)
    }

    /// The message for a time `value` of `keyword` that did not parse.
    static func timeMessage(_ error: ParseError, keyword: String, value: String) -> String {
        switch error {
        case .empty, .notANumber:
            return "'\(keyword)' expects a time value (<number>[us|ms|s|m|h|d]), got '\(value)'"
        case .badUnit(let unit):
            return "'\(keyword)': invalid time unit '\(unit)' in '\(value)' (expected us, ms, s, m, h or d)"
        case .overflow:
            return "'\(keyword)': time '\(value)' is too large (maximum 2147483647 ms, about 24.8 days)"
        }
    }

    /// The message for a size `value` of `keyword` that did not parse.
    static func sizeMessage(_ error: ParseError, keyword: String, value: String) -> String {
        switch error {
        case .empty, .notANumber:
            return "'\(keyword)' expects a size (<number>[k|m|g]), got '\(value)'"
        case .badUnit(let unit):
            return "'\(keyword)': invalid size unit '\(unit)' in '\(value)' (expected k, m or g)"
        case .overflow:
            return "'\(keyword)': size '\(value)' is too large (maximum 2147483647 bytes)"
        }
    }
}
