// SPDX-License-Identifier: Apache-2.0
// LogFormatParser: HAProxy log-format strings (configuration.txt §8.2.4) as used in header values, redirect
// targets, paths and payloads: literal text, `%%`, `%[sample,converter...]` and `%<var>` for the variables in
// LogFormatVariable. Other variables HAProxy knows and `%{...}` flags are refused by name; a `%` that starts
// nothing known is an error, as in HAProxy.

/// Parser for log-format strings.
enum LogFormatParser {
    /// Every log-format variable HAProxy 2.6 knows (sluice evaluates the ones in LogFormatVariable).
    static let knownVariables: Set<String> = [
        "o", "B", "CC", "CS", "H", "HM", "HP", "HPO", "HQ", "HU", "HV", "ID", "ST", "T", "Ta", "Tc", "Td", "Tl", "Th",
        "Ti", "Tq", "TR", "Tr", "Ts", "Tt", "Tu", "Tw", "U", "ac", "b", "bc", "bi", "bp", "bq", "ci", "cp", "f", "fc",
        "fi", "fp", "ft", "lc", "hr", "hrl", "hs", "hsl", "ms", "pid", "r", "rc", "rt", "s", "sc", "si", "sp", "sq",
        "sslc", "sslv", "t", "tr", "trg", "trl", "ts", "tsc",
    ]

    /// Why a string did not parse; `message` is the part of the alert after the keyword's name.
    struct Failure: Error {
        var message: String
    }

    /// Parses `text` into literal, sample and variable parts (adjacent literals merged).
    static func parse(_ text: String) -> Result<LogFormat, Failure> {
        let bytes = Array(text.utf8)
        var parts: [LogFormat.Part] = []
        var literal: [UInt8] = []
        /// Ends the current literal run.
        func flush() {
            if !literal.isEmpty { parts.append(.literal(String(decoding: literal, as: UTF8.self))) }
            literal.removeAll()
        }
        var index = 0
        while index < bytes.count {
            let c = bytes[index]
            guard c == UInt8(ascii: "%") else {
                literal.append(c)
                index += 1
                continue
            }
            guard index + 1 < bytes.count else {
                return .failure(Failure(message: "'%' at the end of '\(text)'; use '%%' for a literal '%'"))
            }
            let next = bytes[index + 1]
            if next == UInt8(ascii: "%") {
                literal.append(c)
                index += 2
                continue
            }
            if next == UInt8(ascii: "{") {
                let end = bytes[index...].firstIndex(of: UInt8(ascii: "}")) ?? bytes.count - 1
                let flags = String(decoding: bytes[index...end], as: UTF8.self)
                return .failure(Failure(message: "log-format flags '\(flags)' are not supported by sluice"))
            }
            if next == UInt8(ascii: "[") {
                // The expression ends at the first ']' outside parentheses.
                var depth = 0
                var end = index + 2
                while end < bytes.count {
                    let b = bytes[end]
                    if b == UInt8(ascii: "\\") {
                        end += 2
                        continue
                    }
                    if b == UInt8(ascii: "(") { depth += 1 }
                    if b == UInt8(ascii: ")") { depth = max(0, depth - 1) }
                    if b == UInt8(ascii: "]") && depth == 0 { break }
                    end += 1
                }
                guard end < bytes.count else {
                    return .failure(Failure(message: "missing ']' after '%[' in '\(text)'"))
                }
                let expression = String(decoding: bytes[(index + 2)..<end], as: UTF8.self)
                guard !expression.isEmpty else {
                    return .failure(Failure(message: "empty sample expression '%[]' in '\(text)'"))
                }
                switch ACLParser.parseSample(expression, acceptsACLKeywords: false) {
                case .success(let parsed):
                    flush()
                    parts.append(.sample(parsed.expression))
                case .failure(let failure):
                    return .failure(Failure(message: "in '%[\(expression)]': \(failure.message)"))
                }
                index = end + 1
                continue
            }
            var end = index + 1
            while end < bytes.count && isLetter(bytes[end]) { end += 1 }
            let name = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
            guard !name.isEmpty else {
                return .failure(
                    Failure(
                        message:
                            "unexpected '%\(Character(Unicode.Scalar(next)))' in '\(text)'; use '%%' for a literal '%'"
                    )
                )
            }
            if let variable = LogFormatVariable(rawValue: name) {
                flush()
                parts.append(.variable(variable))
            } else if knownVariables.contains(name) {
                return .failure(Failure(message: "log-format variable '%\(name)' is not supported by sluice"))
            } else {
                return .failure(
                    Failure(message: "unknown log-format variable '%\(name)'; use '%%' for a literal '%'")
                )
            }
            index = end
        }
        flush()
        return .success(LogFormat(parts: parts, text: text))
    }

    private static func isLetter(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    }
}
