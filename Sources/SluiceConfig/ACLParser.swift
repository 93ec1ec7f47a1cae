// SPDX-License-Identifier: Apache-2.0
// ACLParser: `acl <name> <fetch>[(arg)] [-i] [-m method] [--] <patterns...>` and the anonymous `{ ... }` form into
// ACLTests, with the table of fetches sluice evaluates. A fetch HAProxy knows and sluice does not is refused with
// `fetch '<name>' is not supported by sluice`; to support one, add a row to `supportedFetches`.

/// How sluice checks a supported fetch and its patterns.
struct FetchSpec: Sendable {
    /// Match method used without `-m`.
    var defaultMethod: MatchMethod
    /// Pattern syntax, checked at load time.
    var patterns: PatternKind
}

/// Pattern syntax of a fetch.
enum PatternKind: Sendable {
    /// IPv4/IPv6 address with an optional `/prefix` (or dotted IPv4 mask); host names are resolved at load.
    case address
    /// Integer, range `a:b` (either side may be empty), or an operator (`eq ge gt le lt`) then an integer.
    case integer
    /// No patterns: the fetch is its own answer (`always_true`).
    case none
}

/// Parser for ACL tests and `acl` lines.
enum ACLParser {
    /// Fetches sluice evaluates.
    static let supportedFetches: [String: FetchSpec] = [
        "src": FetchSpec(defaultMethod: .ip, patterns: .address),
        "dst": FetchSpec(defaultMethod: .ip, patterns: .address),
        "dst_port": FetchSpec(defaultMethod: .integer, patterns: .integer),
        "always_true": FetchSpec(defaultMethod: .boolean, patterns: .none),
        "always_false": FetchSpec(defaultMethod: .boolean, patterns: .none),
    ]

    /// Match methods HAProxy knows (`-m`); the ones outside MatchMethod are not supported by sluice.
    private static let knownMethods: Set<String> = [
        "found", "bool", "int", "ip", "bin", "len", "str", "sub", "reg", "beg", "end", "dir", "dom",
    ]

    /// Why an ACL test did not parse; `message` is the whole alert text.
    struct Failure: Error {
        var message: String
    }

    /// Parses an ACL test from `words` (fetch expression first). `what` names it in messages ("ACL 'x'" or
    /// "anonymous ACL"). Resolves host-name patterns through `environment`.
    static func parseTest(
        _ words: ArraySlice<String>,
        what: String,
        location: SourceLocation,
        environment: ConfigEnvironment
    ) -> Result<ACLTest, Failure> {
        guard let expression = words.first else {
            return .failure(Failure(message: "\(what): missing fetch method"))
        }
        let fetch: SampleFetch
        let converters: [String]
        switch parseFetchExpression(expression) {
        case .success(let value): (fetch, converters) = value
        case .failure(let failure): return .failure(Failure(message: "\(what): \(failure.message)"))
        }
        guard let spec = supportedFetches[fetch.name] else {
            return .failure(Failure(message: "\(what): \(unsupportedFetchMessage(fetch.name))"))
        }
        if let converter = converters.first {
            return .failure(Failure(message: "\(what): \(unsupportedConverterMessage(converter, expression))"))
        }
        if let argument = fetch.argument {
            return .failure(Failure(message: "\(what): fetch '\(fetch.name)' takes no argument, got '\(argument)'"))
        }
        var method = spec.defaultMethod
        var ignoreCase = false
        var index = words.index(after: words.startIndex)
        flags: while index < words.endIndex, words[index].hasPrefix("-") {
            let flag = words[index]
            switch flag {
            case "-i":
                ignoreCase = true
            case "--":
                index += 1
                break flags
            case "-m":
                guard index + 1 < words.endIndex else {
                    return .failure(Failure(message: "\(what): '-m' expects a match method"))
                }
                let name = words[index + 1]
                guard knownMethods.contains(name) else {
                    return .failure(Failure(message: "\(what): unknown match method '\(name)'"))
                }
                guard let parsed = MatchMethod(rawValue: name), parsed == spec.defaultMethod || parsed == .found else {
                    return .failure(
                        Failure(
                            message:
                                "\(what): match method '\(name)' with fetch '\(fetch.name)' is not supported by sluice"
                        )
                    )
                }
                method = parsed
                index += 1
            case "-f", "-n", "-u", "-M":
                return .failure(Failure(message: "\(what): ACL flag '\(flag)' is not supported by sluice"))
            default:
                if spec.patterns == .integer, Units.integer(flag) != nil { break flags }
                return .failure(
                    Failure(
                        message:
                            "\(what): '\(flag)' is not a valid ACL option; use '--' before a pattern that starts with '-'"
                    )
                )
            }
            index += 1
        }
        var patterns: [String] = []
        let rest = words[index...]
        if method != .found {
            switch spec.patterns {
            case .none:
                if let extra = rest.first {
                    return .failure(Failure(message: "\(what): fetch '\(fetch.name)' takes no pattern, got '\(extra)'"))
                }
            case .address:
                for pattern in rest {
                    guard let normalized = addressPattern(pattern, environment: environment) else {
                        return .failure(
                            Failure(
                                message: "\(what): invalid IP address or network '\(pattern)' for fetch '\(fetch.name)'"
                            )
                        )
                    }
                    patterns.append(normalized)
                }
            case .integer:
                var iterator = rest.makeIterator()
                while let pattern = iterator.next() {
                    if ["eq", "ge", "gt", "le", "lt"].contains(pattern) {
                        guard let value = iterator.next(), Units.integer(value) != nil else {
                            return .failure(Failure(message: "\(what): operator '\(pattern)' expects an integer"))
                        }
                        patterns.append(pattern + " " + value)
                    } else {
                        guard isIntegerPattern(pattern) else {
                            return .failure(
                                Failure(
                                    message: "\(what): invalid integer or range '\(pattern)' for fetch '\(fetch.name)'"
                                )
                            )
                        }
                        patterns.append(pattern)
                    }
                }
            }
        } else if let extra = rest.first {
            return .failure(Failure(message: "\(what): '-m found' takes no pattern, got '\(extra)'"))
        }
        return .success(
            ACLTest(fetch: fetch, method: method, ignoreCase: ignoreCase, patterns: patterns, location: location)
        )
    }

    /// "fetch 'x' is not supported by sluice" for fetches and ACL keywords HAProxy knows; "unknown fetch method"
    /// (with a suggestion) otherwise.
    static func unsupportedFetchMessage(_ name: String) -> String {
        if HAProxyKeywords.sampleFetches.contains(name) || HAProxyKeywords.aclKeywords.contains(name)
            || name.hasPrefix("lua.")
        {
            return "fetch '\(name)' is not supported by sluice"
        }
        let candidates =
            supportedFetches.keys.sorted() + HAProxyKeywords.aclKeywords.sorted()
            + HAProxyKeywords.sampleFetches.sorted()
        return "unknown fetch method '\(name)'" + KeywordSuggestion.suffix(for: name, among: candidates)
    }

    /// Splits `name(arg),conv1(x),conv2` into the fetch and the converter names (arguments dropped).
    static func parseFetchExpression(_ expression: String) -> Result<(SampleFetch, [String]), Failure> {
        let bytes = Array(expression.utf8)
        var index = 0
        while index < bytes.count && bytes[index] != UInt8(ascii: "(") && bytes[index] != UInt8(ascii: ",") {
            index += 1
        }
        let name = String(decoding: bytes[..<index], as: UTF8.self)
        guard !name.isEmpty else {
            return .failure(Failure(message: "missing fetch method in '\(expression)'"))
        }
        var argument: String?
        if index < bytes.count && bytes[index] == UInt8(ascii: "(") {
            guard let close = bytes[index...].firstIndex(of: UInt8(ascii: ")")) else {
                return .failure(Failure(message: "missing ')' after the argument of fetch '\(name)'"))
            }
            argument = String(decoding: bytes[(index + 1)..<close], as: UTF8.self)
            index = close + 1
        }
        var converters: [String] = []
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: ",") else {
                return .failure(
                    Failure(
                        message:
                            "unexpected '\(String(decoding: bytes[index...], as: UTF8.self))' after fetch '\(name)'"
                    )
                )
            }
            var end = index + 1
            while end < bytes.count && bytes[end] != UInt8(ascii: "(") && bytes[end] != UInt8(ascii: ",") { end += 1 }
            converters.append(String(decoding: bytes[(index + 1)..<end], as: UTF8.self))
            if end < bytes.count && bytes[end] == UInt8(ascii: "(") {
                guard let close = bytes[end...].firstIndex(of: UInt8(ascii: ")")) else {
                    return .failure(
                        Failure(message: "missing ')' after the argument of converter '\(converters.last!)'")
                    )
                }
                end = close + 1
            }
            index = end
        }
        return .success((SampleFetch(name: name, argument: argument), converters))
    }

    /// The message for converter `name` in `expression` (no converter is supported yet).
    static func unsupportedConverterMessage(_ name: String, _ expression: String) -> String {
        if name.isEmpty { return "missing converter name after ',' in '\(expression)'" }
        if HAProxyKeywords.converters.contains(name) || name.hasPrefix("lua.") {
            return "converter '\(name)' is not supported by sluice"
        }
        return "unknown converter '\(name)'"
            + KeywordSuggestion.suffix(for: name, among: HAProxyKeywords.converters.sorted())
    }

    /// Normalizes an address pattern (`a.b.c.d[/len|/mask]`, `v6[/len]`, or a host name resolved now) to numeric
    /// text; nil when invalid.
    static func addressPattern(_ pattern: String, environment: ConfigEnvironment) -> String? {
        var host = pattern
        var suffix = ""
        if let slash = pattern.firstIndex(of: "/") {
            host = String(pattern[..<slash])
            let mask = String(pattern[pattern.index(after: slash)...])
            if AddressParser.ipv4(host) != nil {
                if let bits = Units.integer(mask), (0...32).contains(bits) {
                    suffix = "/\(bits)"
                } else if let dotted = AddressParser.ipv4(mask), isContiguousMask(dotted) {
                    suffix = "/\(dotted.nonzeroBitCount)"
                } else {
                    return nil
                }
                return host + suffix
            }
            guard AddressParser.ipv6(host) != nil, let bits = Units.integer(mask), (0...128).contains(bits) else {
                return nil
            }
            return host + "/\(bits)"
        }
        if AddressParser.ipv4(host) != nil || AddressParser.ipv6(host) != nil { return host }
        guard !host.isEmpty, let resolved = environment.resolveHost(host) else { return nil }
        switch resolved {
        case .ipv4(let a, _): return "\(a >> 24).\((a >> 16) & 255).\((a >> 8) & 255).\(a & 255)"
        case .ipv6(let a, _): return a.description
        case .unix: return nil
        }
    }

    private static func isContiguousMask(_ mask: UInt32) -> Bool {
        mask == 0 || (~mask & (~mask &+ 1)) == 0
    }

    private static func isIntegerPattern(_ pattern: String) -> Bool {
        let parts = pattern.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return false }
        if parts.count == 1 { return Units.integer(pattern) != nil }
        let low = String(parts[0])
        let high = String(parts[1])
        guard !(low.isEmpty && high.isEmpty) else { return false }
        return (low.isEmpty || Units.integer(low) != nil) && (high.isEmpty || Units.integer(high) != nil)
    }

    /// Parses an `acl <name> <expression...>` line into the draft: a new name creates an ACLConfig, a known one
    /// gets another test (tests of one name are OR-ed, in file order).
    static func parseACLLine(_ line: ConfigLine, draft: inout ProxyDraft, context: inout ParseContext) {
        let words = line.words
        guard words.count >= 3 else {
            context.alert("'acl' expects an ACL name and a fetch method", line)
            if words.count == 2 { draft.failedACLNames.insert(words[1]) }
            return
        }
        let name = words[1]
        if let bad = NameRules.invalidCharacter(in: name) {
            context.alert("character '\(bad)' is not permitted in ACL name '\(name)'", line)
            draft.failedACLNames.insert(name)
            return
        }
        switch parseTest(words[2...], what: "ACL '\(name)'", location: line.location, environment: context.environment)
        {
        case .failure(let failure):
            context.alert(failure.message, line)
            draft.failedACLNames.insert(name)
        case .success(let test):
            if test.patterns.isEmpty && test.method != .found && test.method != .boolean && !words.contains("--") {
                context.warning(
                    "ACL '\(name)': no pattern to match against, so this ACL never matches (add '--' to silence this)",
                    line
                )
            }
            if let index = draft.aclIndexByName[name] {
                draft.config.acls[index].tests.append(test)
            } else {
                draft.aclIndexByName[name] = draft.config.acls.count
                draft.config.acls.append(ACLConfig(name: name, tests: [test]))
            }
        }
    }
}
