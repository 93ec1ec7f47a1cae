// SPDX-License-Identifier: Apache-2.0
// ACLParser: sample expressions (`fetch(args),converter,...`) and `acl <name> <fetch> [-i] [-m method] [-f file]
// [--] <patterns...>` (also the anonymous `{ ... }` form) into ACLTests, with the table of fetches sluice evaluates
// and the ACL keywords derived from them (`path_beg` = `path -m beg`). A fetch HAProxy knows and sluice does not is
// refused with `fetch '<name>' is not supported by sluice`; to support one, add a row to `supportedFetches`.

/// What a fetch returns: decides its default match method, the methods it accepts and its pattern syntax.
enum SampleType: Sendable {
    /// IPv4/IPv6 address: patterns are addresses or networks (`-m ip`).
    case address
    /// Integer: patterns are integers, ranges `a:b` or `eq|ge|gt|le|lt N` (`-m int`).
    case integer
    /// Boolean: no pattern (`-m bool`).
    case boolean
    /// Text: `-m str|beg|end|sub|reg|dom|dir|len`.
    case string

    /// Match method used without `-m`.
    var defaultMethod: MatchMethod {
        switch self {
        case .address: return .ip
        case .integer: return .integer
        case .boolean: return .boolean
        case .string: return .exact
        }
    }

    /// Methods allowed with `-m` on this type (`found` is allowed on every type).
    var methods: Set<MatchMethod> {
        switch self {
        case .address: return [.ip, .found]
        case .integer: return [.integer, .boolean, .found]
        case .boolean: return [.boolean, .found]
        case .string: return [.exact, .prefix, .suffix, .substring, .regex, .domain, .directory, .length, .found]
        }
    }
}

/// The arguments a fetch takes between parentheses.
enum FetchArguments: Sendable {
    case none
    /// Exactly one, required (`str(text)`).
    case one(what: String)
    /// `[<name>[,<occurrence>]]`: an optional header name, then an optional integer occurrence (`hdr(host,-1)`).
    case header
    /// `[<name>[,<delimiter>]]` (`url_param(id)`).
    case parameter
}

/// How sluice knows a supported fetch.
struct FetchSpec: Sendable {
    var type: SampleType
    var source: FetchSource
    var arguments: FetchArguments
}

/// Parser for sample expressions, ACL tests and `acl` lines.
enum ACLParser {
    /// Fetches sluice evaluates, by canonical name.
    static let supportedFetches: [String: FetchSpec] = [
        "always_true": FetchSpec(type: .boolean, source: .constant, arguments: .none),
        "always_false": FetchSpec(type: .boolean, source: .constant, arguments: .none),
        "str": FetchSpec(type: .string, source: .constant, arguments: .one(what: "a string")),
        "src": FetchSpec(type: .address, source: .connection, arguments: .none),
        "src_port": FetchSpec(type: .integer, source: .connection, arguments: .none),
        "dst": FetchSpec(type: .address, source: .connection, arguments: .none),
        "dst_port": FetchSpec(type: .integer, source: .connection, arguments: .none),
        "ssl_fc": FetchSpec(type: .boolean, source: .tls, arguments: .none),
        "ssl_fc_sni": FetchSpec(type: .string, source: .tls, arguments: .none),
        "ssl_fc_has_sni": FetchSpec(type: .boolean, source: .tls, arguments: .none),
        "ssl_fc_protocol": FetchSpec(type: .string, source: .tls, arguments: .none),
        "ssl_fc_alpn": FetchSpec(type: .string, source: .tls, arguments: .none),
        "ssl_c_used": FetchSpec(type: .boolean, source: .tls, arguments: .none),
        "ssl_c_verify": FetchSpec(type: .integer, source: .tls, arguments: .none),
        "req.ssl_sni": FetchSpec(type: .string, source: .content, arguments: .none),
        "req.ssl_hello_type": FetchSpec(type: .integer, source: .content, arguments: .none),
        "req.len": FetchSpec(type: .integer, source: .content, arguments: .none),
        "wait_end": FetchSpec(type: .boolean, source: .content, arguments: .none),
        "req.proto_http": FetchSpec(type: .boolean, source: .httpRequest, arguments: .none),
        "method": FetchSpec(type: .string, source: .httpRequest, arguments: .none),
        "path": FetchSpec(type: .string, source: .httpRequest, arguments: .none),
        "url": FetchSpec(type: .string, source: .httpRequest, arguments: .none),
        "base": FetchSpec(type: .string, source: .httpRequest, arguments: .none),
        "query": FetchSpec(type: .string, source: .httpRequest, arguments: .none),
        "url_param": FetchSpec(type: .string, source: .httpRequest, arguments: .parameter),
        "req.ver": FetchSpec(type: .string, source: .httpRequest, arguments: .none),
        "req.hdr": FetchSpec(type: .string, source: .httpRequest, arguments: .header),
        "req.hdr_cnt": FetchSpec(type: .integer, source: .httpRequest, arguments: .header),
        "req.hdr_val": FetchSpec(type: .integer, source: .httpRequest, arguments: .header),
        "hdr": FetchSpec(type: .string, source: .httpMessage, arguments: .header),
        "hdr_cnt": FetchSpec(type: .integer, source: .httpMessage, arguments: .header),
        "hdr_val": FetchSpec(type: .integer, source: .httpMessage, arguments: .header),
        "status": FetchSpec(type: .integer, source: .httpResponse, arguments: .none),
        "res.hdr": FetchSpec(type: .string, source: .httpResponse, arguments: .header),
        "res.hdr_cnt": FetchSpec(type: .integer, source: .httpResponse, arguments: .header),
        "res.hdr_val": FetchSpec(type: .integer, source: .httpResponse, arguments: .header),
    ]

    /// Other names of supported fetches (HAProxy's older spellings).
    static let fetchAliases: [String: String] = [
        "req_ssl_sni": "req.ssl_sni", "req_ssl_hello_type": "req.ssl_hello_type", "req_len": "req.len",
        "req_proto_http": "req.proto_http", "req_ver": "req.ver", "urlp": "url_param", "shdr": "res.hdr",
        "shdr_cnt": "res.hdr_cnt", "shdr_val": "res.hdr_val",
    ]

    /// ACL keywords that imply a match method (`path_beg` = `path -m beg`), HAProxy's derived keywords for the
    /// supported fetches: `<base>_beg|end|sub|reg|dom|dir|len` and `ssl_fc_sni_end|reg`.
    static let derivedKeywords: [String: (fetch: String, method: MatchMethod)] = {
        var table: [String: (fetch: String, method: MatchMethod)] = [:]
        let bases = [
            "path": "path", "url": "url", "base": "base", "hdr": "hdr", "urlp": "url_param", "shdr": "res.hdr",
        ]
        let suffixes: [String: MatchMethod] = [
            "beg": .prefix, "end": .suffix, "sub": .substring, "reg": .regex, "dom": .domain, "dir": .directory,
            "len": .length,
        ]
        for (base, fetch) in bases {
            for (suffix, method) in suffixes { table["\(base)_\(suffix)"] = (fetch, method) }
        }
        table["ssl_fc_sni_end"] = ("ssl_fc_sni", .suffix)
        table["ssl_fc_sni_reg"] = ("ssl_fc_sni", .regex)
        return table
    }()

    /// Match methods HAProxy knows (`-m`); `bin` is the one sluice does not support.
    private static let knownMethods: Set<String> = [
        "found", "bool", "int", "ip", "bin", "len", "str", "sub", "reg", "beg", "end", "dir", "dom",
    ]

    /// Why a sample expression or an ACL test did not parse; `message` is the whole alert text.
    struct Failure: Error {
        var message: String
    }

    /// A parsed sample expression: the canonical fetch, its converters, the match method an ACL keyword implies
    /// (`path_beg`), the fetch's spec and the name as written (for messages).
    struct ParsedSample {
        var expression: SampleExpression
        var impliedMethod: MatchMethod?
        var spec: FetchSpec
        var writtenName: String
    }

    /// Parses `fetch[(args)][,converter...]`. `acceptsACLKeywords` allows derived ACL keywords (`hdr_beg(host)`),
    /// which only make sense in an ACL test. Messages name the fetch as written.
    static func parseSample(_ expression: String, acceptsACLKeywords: Bool) -> Result<ParsedSample, Failure> {
        let split: (name: String, arguments: [String]?, converters: [(String, [String]?)])
        switch splitExpression(expression) {
        case .success(let value): split = value
        case .failure(let failure): return .failure(failure)
        }
        let written = split.name
        var canonical = fetchAliases[written] ?? written
        var implied: MatchMethod?
        if acceptsACLKeywords, let derived = derivedKeywords[written] {
            canonical = derived.fetch
            implied = derived.method
        }
        if !acceptsACLKeywords, let derived = derivedKeywords[written] {
            return .failure(
                Failure(message: "'\(written)' is an ACL keyword, not a sample fetch (use '\(derived.fetch)')")
            )
        }
        guard let spec = supportedFetches[canonical] else {
            return .failure(Failure(message: unsupportedFetchMessage(written)))
        }
        let arguments = split.arguments ?? []
        switch spec.arguments {
        case .none:
            if let argument = split.arguments {
                return .failure(
                    Failure(message: "fetch '\(written)' takes no argument, got '\(argument.joined(separator: ","))'")
                )
            }
        case .one(let what):
            guard arguments.count == 1, !arguments[0].isEmpty else {
                return .failure(Failure(message: "fetch '\(written)' expects \(what) between parentheses"))
            }
        case .header:
            guard arguments.count <= 2 else {
                return .failure(
                    Failure(message: "fetch '\(written)' expects at most a header name and an occurrence")
                )
            }
            if arguments.count == 2, Units.integer(arguments[1]) == nil {
                return .failure(
                    Failure(message: "fetch '\(written)': occurrence must be an integer, got '\(arguments[1])'")
                )
            }
        case .parameter:
            guard arguments.count <= 2 else {
                return .failure(
                    Failure(message: "fetch '\(written)' expects at most a parameter name and a delimiter")
                )
            }
        }
        var converters: [SampleConverter] = []
        for (name, converterArguments) in split.converters {
            guard let converter = SampleConverter(rawValue: name) else {
                return .failure(Failure(message: unsupportedConverterMessage(name, expression)))
            }
            if let converterArguments {
                return .failure(
                    Failure(
                        message:
                            "converter '\(name)' takes no argument, got '\(converterArguments.joined(separator: ","))'"
                    )
                )
            }
            guard spec.type == .string else {
                return .failure(Failure(message: "converter '\(name)' applies to text; fetch '\(written)' is not text"))
            }
            converters.append(converter)
        }
        let fetch = SampleFetch(name: canonical, arguments: arguments)
        return .success(
            ParsedSample(
                expression: SampleExpression(fetch: fetch, converters: converters),
                impliedMethod: implied,
                spec: spec,
                writtenName: written
            )
        )
    }

    /// Parses an ACL test from `words` (fetch expression first). `what` names it in messages ("ACL 'x'" or
    /// "anonymous ACL"). Resolves host-name patterns and reads `-f` files through `environment`.
    static func parseTest(
        _ words: ArraySlice<String>,
        what: String,
        location: SourceLocation,
        environment: ConfigEnvironment
    ) -> Result<ACLTest, Failure> {
        guard let expression = words.first else {
            return .failure(Failure(message: "\(what): missing fetch method"))
        }
        let parsed: ParsedSample
        switch parseSample(expression, acceptsACLKeywords: true) {
        case .success(let value): parsed = value
        case .failure(let failure): return .failure(Failure(message: "\(what): \(failure.message)"))
        }
        let fetchName = parsed.writtenName
        var method = parsed.impliedMethod ?? parsed.spec.type.defaultMethod
        var ignoreCase = false
        var files: [String] = []
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
                guard let requested = MatchMethod(rawValue: name), parsed.spec.type.methods.contains(requested) else {
                    return .failure(
                        Failure(
                            message:
                                "\(what): match method '\(name)' with fetch '\(fetchName)' is not supported by sluice"
                        )
                    )
                }
                method = requested
                index += 1
            case "-f":
                guard index + 1 < words.endIndex else {
                    return .failure(Failure(message: "\(what): '-f' expects a file name"))
                }
                files.append(words[index + 1])
                index += 1
            case "-n", "-u", "-M":
                return .failure(Failure(message: "\(what): ACL flag '\(flag)' is not supported by sluice"))
            default:
                if method == .integer || method == .length, Units.integer(flag) != nil { break flags }
                return .failure(
                    Failure(
                        message:
                            "\(what): '\(flag)' is not a valid ACL option; use '--' before a pattern that starts with '-'"
                    )
                )
            }
            index += 1
        }
        // Patterns from the line, then from each file in order; each with where it came from, for messages.
        var written: [(pattern: String, origin: String)] = words[index...].map { ($0, "") }
        for file in files {
            switch environment.readFile(file) {
            case .failure(let error):
                return .failure(Failure(message: "\(what): cannot read pattern file '\(file)' (\(error.reason))"))
            case .success(let bytes):
                for (number, line) in Tokenizer.lines(of: bytes) {
                    let pattern = trimmed(line)
                    if pattern.isEmpty || pattern.hasPrefix("#") { continue }
                    written.append((pattern, " in '\(file)' line \(number)"))
                }
            }
        }
        var patterns: [String] = []
        switch method {
        case .found, .boolean:
            if let extra = written.first {
                let subject = method == .found ? "'-m found'" : "fetch '\(fetchName)'"
                return .failure(
                    Failure(message: "\(what): \(subject) takes no pattern, got '\(extra.pattern)'\(extra.origin)")
                )
            }
        case .ip:
            for (pattern, origin) in written {
                guard let normalized = addressPattern(pattern, environment: environment) else {
                    return .failure(
                        Failure(
                            message:
                                "\(what): invalid IP address or network '\(pattern)' for fetch '\(fetchName)'\(origin)"
                        )
                    )
                }
                patterns.append(normalized)
            }
        case .integer, .length:
            var iterator = written.makeIterator()
            while let (pattern, origin) = iterator.next() {
                if ["eq", "ge", "gt", "le", "lt"].contains(pattern) {
                    guard let (value, _) = iterator.next(), Units.integer(value) != nil else {
                        return .failure(Failure(message: "\(what): operator '\(pattern)' expects an integer\(origin)"))
                    }
                    patterns.append(pattern + " " + value)
                } else {
                    guard isIntegerPattern(pattern) else {
                        return .failure(
                            Failure(
                                message:
                                    "\(what): invalid integer or range '\(pattern)' for fetch '\(fetchName)'\(origin)"
                            )
                        )
                    }
                    patterns.append(pattern)
                }
            }
        case .regex:
            for (pattern, origin) in written {
                if let reason = RegexCheck.error(in: pattern, ignoreCase: ignoreCase) {
                    return .failure(Failure(message: "\(what): invalid regex '\(pattern)'\(origin): \(reason)"))
                }
                patterns.append(pattern)
            }
        case .exact, .prefix, .suffix, .substring, .domain, .directory:
            patterns = written.map(\.pattern)
        }
        return .success(
            ACLTest(
                fetch: parsed.expression.fetch,
                converters: parsed.expression.converters,
                method: method,
                ignoreCase: ignoreCase,
                patterns: patterns,
                location: location
            )
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
            supportedFetches.keys.sorted() + derivedKeywords.keys.sorted() + HAProxyKeywords.aclKeywords.sorted()
            + HAProxyKeywords.sampleFetches.sorted()
        return "unknown fetch method '\(name)'" + KeywordSuggestion.suffix(for: name, among: candidates)
    }

    /// Splits `name(a,b),conv1(x),conv2` into the fetch name, its arguments (nil without parentheses) and each
    /// converter with its arguments. Parentheses nest and `\` escapes the next byte inside arguments.
    static func splitExpression(
        _ expression: String
    ) -> Result<(name: String, arguments: [String]?, converters: [(String, [String]?)]), Failure> {
        let bytes = Array(expression.utf8)
        var index = 0
        /// Reads a name up to `(`, `,` or the end.
        func name() -> String {
            let start = index
            while index < bytes.count && bytes[index] != UInt8(ascii: "(") && bytes[index] != UInt8(ascii: ",") {
                index += 1
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
        /// Reads `(args)` if present; nil without parentheses, a failure message when `)` is missing.
        func arguments() -> Result<[String]?, Failure>? {
            guard index < bytes.count && bytes[index] == UInt8(ascii: "(") else { return .success(nil) }
            var depth = 0
            var current: [UInt8] = []
            var list: [String] = []
            index += 1
            while index < bytes.count {
                let c = bytes[index]
                if c == UInt8(ascii: "\\") && index + 1 < bytes.count {
                    current.append(bytes[index + 1])
                    index += 2
                    continue
                }
                if c == UInt8(ascii: "(") { depth += 1 }
                if c == UInt8(ascii: ")") {
                    if depth == 0 {
                        list.append(String(decoding: current, as: UTF8.self))
                        index += 1
                        return .success(list)
                    }
                    depth -= 1
                }
                if c == UInt8(ascii: ",") && depth == 0 {
                    list.append(String(decoding: current, as: UTF8.self))
                    current = []
                } else {
                    current.append(c)
                }
                index += 1
            }
            return nil
        }
        let fetchName = name()
        guard !fetchName.isEmpty else {
            return .failure(Failure(message: "missing fetch method in '\(expression)'"))
        }
        guard let fetchArguments = arguments() else {
            return .failure(Failure(message: "missing ')' after the argument of fetch '\(fetchName)'"))
        }
        var converters: [(String, [String]?)] = []
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: ",") else {
                return .failure(
                    Failure(
                        message:
                            "unexpected '\(String(decoding: bytes[index...], as: UTF8.self))' after fetch '\(fetchName)'"
                    )
                )
            }
            index += 1
            let converter = name()
            guard !converter.isEmpty else {
                return .failure(Failure(message: "missing converter name after ',' in '\(expression)'"))
            }
            guard let converterArguments = arguments() else {
                return .failure(Failure(message: "missing ')' after the argument of converter '\(converter)'"))
            }
            switch converterArguments {
            case .success(let value): converters.append((converter, value))
            case .failure(let failure): return .failure(failure)
            }
        }
        switch fetchArguments {
        case .success(let value): return .success((fetchName, value, converters))
        case .failure(let failure): return .failure(failure)
        }
    }

    /// The message for converter `name` in `expression` (sluice supports `lower` and `upper`).
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

    /// A pattern-file line without its leading and trailing spaces and tabs.
    private static func trimmed(_ line: ArraySlice<UInt8>) -> String {
        var slice = line
        while let first = slice.first, first == 32 || first == 9 { slice = slice.dropFirst() }
        while let last = slice.last, last == 32 || last == 9 { slice = slice.dropLast() }
        return String(decoding: slice, as: UTF8.self)
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
            if test.patterns.isEmpty && test.method != .found && test.method != .boolean && !words.contains("--")
                && !words.contains("-f")
            {
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
