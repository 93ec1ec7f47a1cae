// SPDX-License-Identifier: Apache-2.0
// Tokenizer: cuts configuration text into lines and lines into words with HAProxy 2.6's rules (parse_line in
// src/tools.c): `#` comments, weak "..." and strong '...' quoting, backslash escapes, and environment variables
// expanded inside double quotes only. Works on bytes; knows nothing about keywords.

/// One configuration line cut into words (quotes removed, escapes and variables resolved).
struct ConfigLine {
    var words: [String]
    var location: SourceLocation
}

/// A tokenizer error, with the 1-based byte column it points at.
struct TokenizeError: Error, Equatable {
    var message: String
}

/// HAProxy's line tokenizer over bytes.
enum Tokenizer {
    /// Splits `text` into lines: LF ends a line, a CR before it is dropped (CRLF files), a last line without LF is
    /// a line. Returns each line's bytes with its 1-based number.
    static func lines(of text: [UInt8]) -> [(number: Int, bytes: ArraySlice<UInt8>)] {
        var result: [(number: Int, bytes: ArraySlice<UInt8>)] = []
        var start = 0
        var number = 1
        var index = 0
        while index < text.count {
            if text[index] == UInt8(ascii: "\n") {
                var end = index
                if end > start && text[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                result.append((number, text[start..<end]))
                number += 1
                start = index + 1
            }
            index += 1
        }
        if start < text.count {
            var end = text.count
            if text[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            result.append((number, text[start..<end]))
        }
        return result
    }

    /// Cuts one line into words. `variable` looks up `$NAME`/`${NAME}` inside double quotes; `pseudo` answers
    /// HAProxy's pseudo-variables (`.FILE`, `.LINE`, `.SECTION`). Unset variables expand to nothing, or to the
    /// default of `${NAME-default}`; `${NAME[*]}` splits the value into several words. Outside double quotes `$`
    /// is a plain character. Empty quoted words ("") are kept as empty words.
    static func words(
        of line: ArraySlice<UInt8>,
        variable: (String) -> String?,
        pseudo: (String) -> String?
    ) -> Result<[String], TokenizeError> {
        let bytes = Array(line)
        var words: [String] = []
        var current: [UInt8] = []
        var hasWord = false  // a word was started (possibly empty, by quotes)
        var squote = false
        var dquote = false
        var quoteStart = 0
        var i = 0

        /// Ends the current word (kept even if empty when quotes started it).
        func finishWord() {
            if hasWord { words.append(String(decoding: current, as: UTF8.self)) }
            current.removeAll(keepingCapacity: true)
            hasWord = false
        }
        /// A failure pointing at the 0-based byte `position` (reported 1-based).
        func error(_ what: String, at position: Int) -> Result<[String], TokenizeError> {
            .failure(TokenizeError(message: "\(what) at position \(position + 1)"))
        }

        while i < bytes.count {
            let c = bytes[i]
            if c == 0 {
                return error("NUL character", at: i)
            }
            if c == UInt8(ascii: "#") && !squote && !dquote {
                break
            }
            if c == UInt8(ascii: "\"") && !squote {
                dquote.toggle()
                if dquote { quoteStart = i }
                hasWord = true
                i += 1
                continue
            }
            if c == UInt8(ascii: "'") && !dquote {
                squote.toggle()
                if squote { quoteStart = i }
                hasWord = true
                i += 1
                continue
            }
            if c == UInt8(ascii: "\\") && !squote {
                let next: UInt8? = i + 1 < bytes.count ? bytes[i + 1] : nil
                hasWord = true
                switch next {
                case UInt8(ascii: " "), UInt8(ascii: "\\"), UInt8(ascii: "#"), UInt8(ascii: "'"),
                    UInt8(ascii: "\""):
                    current.append(next!)
                    i += 2
                case UInt8(ascii: "t"):
                    current.append(9)
                    i += 2
                case UInt8(ascii: "n"):
                    current.append(10)
                    i += 2
                case UInt8(ascii: "r"):
                    current.append(13)
                    i += 2
                case UInt8(ascii: "$") where dquote:
                    current.append(UInt8(ascii: "$"))
                    i += 2
                case UInt8(ascii: "x"):
                    guard i + 3 < bytes.count, let high = hexValue(bytes[i + 2]), let low = hexValue(bytes[i + 3])
                    else {
                        return error("truncated or invalid hexadecimal sequence", at: i)
                    }
                    current.append(high << 4 | low)
                    i += 4
                default:
                    // Other combinations are not escapes (e.g. `\1` in a regex): the backslash stays.
                    current.append(c)
                    i += 1
                }
                continue
            }
            if isSpace(c) && !squote && !dquote {
                finishWord()
                while i < bytes.count && isSpace(bytes[i]) { i += 1 }
                continue
            }
            if c == UInt8(ascii: "$") && dquote {
                let dollar = i
                i += 1
                var brace: Int? = nil
                if i < bytes.count && bytes[i] == UInt8(ascii: "{") {
                    brace = i
                    i += 1
                }
                guard i < bytes.count,
                    isAlpha(bytes[i]) || bytes[i] == UInt8(ascii: "_") || bytes[i] == UInt8(ascii: ".")
                else {
                    return error("forbidden first char in environment variable name", at: i < bytes.count ? i : dollar)
                }
                let nameStart = i
                if bytes[i] == UInt8(ascii: ".") { i += 1 }
                while i < bytes.count && (isAlnum(bytes[i]) || bytes[i] == UInt8(ascii: "_")) { i += 1 }
                let name = String(decoding: bytes[nameStart..<i], as: UTF8.self)
                var value: String?
                if name.hasPrefix(".") {
                    guard let pseudoValue = pseudo(name) else {
                        return error("unknown pseudo-variable '\(name)'", at: nameStart)
                    }
                    value = pseudoValue
                } else {
                    value = variable(name)
                }
                var expandWords = false
                if let brace {
                    if i < bytes.count && bytes[i] == UInt8(ascii: "[") {
                        guard i + 2 < bytes.count, bytes[i + 1] == UInt8(ascii: "*"), bytes[i + 2] == UInt8(ascii: "]")
                        else {
                            return error("truncated or invalid word expansion sequence", at: i)
                        }
                        expandWords = true
                        i += 3
                    }
                    if i < bytes.count && bytes[i] == UInt8(ascii: "-") {
                        let defaultStart = i + 1
                        while i < bytes.count && bytes[i] != UInt8(ascii: "}") { i += 1 }
                        guard i < bytes.count else {
                            return error("unmatched brace in environment variable name", at: brace)
                        }
                        if value == nil { value = String(decoding: bytes[defaultStart..<i], as: UTF8.self) }
                    }
                    guard i < bytes.count && bytes[i] == UInt8(ascii: "}") else {
                        return error("unmatched brace in environment variable name", at: brace)
                    }
                    i += 1
                }
                hasWord = true
                if let value {
                    var valueBytes = Array(value.utf8)[...]
                    if expandWords {
                        while let first = valueBytes.first {
                            if isSpace(first) {
                                finishWord()
                                hasWord = true
                                while let next = valueBytes.first, isSpace(next) { valueBytes = valueBytes.dropFirst() }
                            } else {
                                current.append(first)
                                valueBytes = valueBytes.dropFirst()
                            }
                        }
                    } else {
                        current.append(contentsOf: valueBytes)
                    }
                }
                continue
            }
            current.append(c)
            hasWord = true
            i += 1
        }
        if squote || dquote {
            return error("unmatched quote", at: quoteStart)
        }
        finishWord()
        return .success(words)
    }

    /// isspace() in the C locale, minus LF and CR which end lines before we get here.
    static func isSpace(_ c: UInt8) -> Bool {
        c == 32 || c == 9 || c == 11 || c == 12 || c == 13
    }

    private static func isAlpha(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    }

    private static func isAlnum(_ c: UInt8) -> Bool {
        isAlpha(c) || (c >= 48 && c <= 57)
    }

    /// The value of one hexadecimal digit, nil for anything else.
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }

    /// HAProxy's env_expand(), used on addresses (bind, server, log targets) where `$NAME` and `${NAME}` are
    /// expanded even outside quotes. No defaults; unset expands to nothing.
    static func expandAddressVariables(_ word: String, variable: (String) -> String?) -> String {
        let bytes = Array(word.utf8)
        guard bytes.contains(UInt8(ascii: "$")) else { return word }
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "$") else {
                out.append(bytes[i])
                i += 1
                continue
            }
            var j = i + 1
            let braced = j < bytes.count && bytes[j] == UInt8(ascii: "{")
            if braced { j += 1 }
            let nameStart = j
            while j < bytes.count && (isAlnum(bytes[j]) || bytes[j] == UInt8(ascii: "_")) { j += 1 }
            let name = String(decoding: bytes[nameStart..<j], as: UTF8.self)
            if braced && j < bytes.count && bytes[j] == UInt8(ascii: "}") { j += 1 }
            if let value = variable(name) { out.append(contentsOf: value.utf8) }
            i = j
        }
        return String(decoding: out, as: UTF8.self)
    }
}
