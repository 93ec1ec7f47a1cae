// SPDX-License-Identifier: Apache-2.0
// RegexCheck: compiles a regex once at load with glibc's regcomp (POSIX extended syntax, the engine the runtime
// uses too) to report a bad one with its file:line, then frees it. HAProxy is usually built with PCRE2, whose
// syntax is wider: the PCRE-only constructs that regcomp would accept with another meaning (`\d` is a plain `d`
// there) are refused by name rather than silently changing what matches.

#if canImport(Glibc)
import Glibc
#endif

/// Load-time validation of regular expressions.
enum RegexCheck {
    /// PCRE escapes that POSIX extended regexes read differently, with the POSIX spelling to suggest.
    private static let pcreEscapes: [(String, String)] = [
        ("\\d", "[0-9]"), ("\\D", "[^0-9]"), ("\\h", "[[:blank:]]"), ("\\H", "[^[:blank:]]"), ("\\A", "^"),
        ("\\z", "$"), ("\\Z", "$"), ("\\Q", "a bracket expression"), ("\\K", "a group"),
    ]

    /// nil when `pattern` compiles with REG_EXTENDED (plus REG_ICASE when `ignoreCase`); otherwise the reason, for
    /// a message such as "invalid regex '(' : Unmatched ( or \\(".
    static func error(in pattern: String, ignoreCase: Bool) -> String? {
        let bytes = Array(pattern.utf8)
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "\\") {
                let pair = String(decoding: bytes[index...(index + 1)], as: UTF8.self)
                if let (_, replacement) = pcreEscapes.first(where: { $0.0 == pair }) {
                    return "PCRE escape '\(pair)' is not supported by sluice's POSIX regexes (use \(replacement))"
                }
                index += 2
                continue
            }
            if bytes[index] == UInt8(ascii: "("), bytes[index + 1] == UInt8(ascii: "?") {
                return "PCRE group '(?' is not supported by sluice's POSIX regexes"
            }
            if bytes[index + 1] == UInt8(ascii: "?"),
                [UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "}")].contains(bytes[index])
            {
                let quantifier = Character(Unicode.Scalar(bytes[index]))
                return "lazy quantifier '\(quantifier)?' is not supported by sluice's POSIX regexes"
            }
            index += 1
        }
        var regex = regex_t()
        var flags = REG_EXTENDED | REG_NOSUB
        if ignoreCase { flags |= REG_ICASE }
        let rc = regcomp(&regex, pattern, flags)
        guard rc != 0 else {
            regfree(&regex)
            return nil
        }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = regerror(rc, &regex, &buffer, buffer.count)
        // regcomp leaves nothing to free on failure (glibc frees its partial state itself).
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
