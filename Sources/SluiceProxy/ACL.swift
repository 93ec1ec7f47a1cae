// SPDX-License-Identifier: Apache-2.0
// ACL: tests and conditions compiled from the config model. Patterns are parsed once (IP networks, integer
// ranges and operators, byte strings lowercased for -i, POSIX regexes compiled with the flags the config
// checked them with); matching walks the fetch's values and allocates nothing. Results are three-valued so a
// TCP frontend can wait (tcp-request inspect-delay) until content fetches have enough data.
import Glibc
import SluiceConfig
import SluiceCore

/// A three-valued match result.
enum MatchResult {
    case yes
    case no
    /// A content fetch needs more data before it can answer.
    case needMore
}

/// An IPv4 or IPv6 network (`10.0.0.0/8`, `::1`).
struct IPNetwork: Equatable {
    let family: IPEndpoint.Family
    let high: UInt64
    let low: UInt64
    let prefixLength: Int

    /// Parses `addr[/len]` (len may be a dotted mask for IPv4); nil when it is not an address.
    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let addr = parts.first, !addr.isEmpty else { return nil }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, addr, &v4) == 1 {
            family = .ipv4
            high = UInt64(UInt32(bigEndian: v4.s_addr))
            low = 0
            if parts.count > 1, Int(parts[1]) == nil {
                var mask = in_addr()
                guard inet_pton(AF_INET, parts[1], &mask) == 1 else { return nil }
                let m = UInt32(bigEndian: mask.s_addr)
                guard (~m) & ((~m) &+ 1) == 0 else { return nil }  // contiguous ones
                prefixLength = m.nonzeroBitCount
            } else {
                guard let l = parts.count > 1 ? Int(parts[1]) : 32, l >= 0, l <= 32 else { return nil }
                prefixLength = l
            }
        } else if inet_pton(AF_INET6, addr, &v6) == 1 {
            family = .ipv6
            var h: UInt64 = 0
            var l: UInt64 = 0
            withUnsafeBytes(of: v6) { b in
                for i in 0..<8 { h = (h << 8) | UInt64(b[i]) }
                for i in 8..<16 { l = (l << 8) | UInt64(b[i]) }
            }
            high = h
            low = l
            guard let len = parts.count > 1 ? Int(parts[1]) : 128, len >= 0, len <= 128 else { return nil }
            prefixLength = len
        } else {
            return nil
        }
    }

    /// True when `endpoint`'s address is inside this network. IPv4-mapped IPv6 clients match IPv4 networks.
    func contains(_ endpoint: IPEndpoint) -> Bool {
        switch (family, endpoint.family) {
        case (.ipv4, .ipv4):
            return Self.matches32(UInt32(high), endpoint.ipv4Address, prefixLength)
        case (.ipv4, .ipv6):
            guard endpoint.high == 0, endpoint.low >> 32 == 0xFFFF else { return false }
            return Self.matches32(UInt32(high), UInt32(truncatingIfNeeded: endpoint.low), prefixLength)
        case (.ipv6, .ipv6):
            if prefixLength <= 64 {
                let mask: UInt64 = prefixLength == 0 ? 0 : ~0 << (64 - UInt64(prefixLength))
                return high & mask == endpoint.high & mask
            }
            let mask: UInt64 = ~0 << (128 - UInt64(prefixLength))
            return high == endpoint.high && low & mask == endpoint.low & mask
        default:
            return false
        }
    }

    private static func matches32(_ network: UInt32, _ address: UInt32, _ length: Int) -> Bool {
        let mask: UInt32 = length == 0 ? 0 : ~0 << (32 - UInt32(length))
        return network & mask == address & mask
    }
}

/// A compiled POSIX regex (REG_EXTENDED, as the config checked it). Matching needs a NUL-terminated copy of the
/// subject: the loop's sample scratch holds it.
final class CompiledRegex {
    private var regex = regex_t()
    let pattern: String

    init?(_ pattern: String, ignoreCase: Bool) {
        self.pattern = pattern
        if regcomp(&regex, pattern, REG_EXTENDED | (ignoreCase ? REG_ICASE : 0)) != 0 { return nil }
    }

    deinit { regfree(&regex) }

    /// True when the regex matches somewhere in `subject`. `scratch` must hold subject.count + 1 bytes.
    func matches(_ subject: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer) -> Bool {
        guard subject.count < scratch.count else { return false }
        UnsafeMutableRawBufferPointer(rebasing: scratch[0..<subject.count]).copyMemory(from: subject)
        scratch[subject.count] = 0
        return regexec(&regex, scratch.baseAddress!.assumingMemoryBound(to: CChar.self), 0, nil, 0) == 0
    }

    /// Runs the regex with capture groups; `groups` receives up to 10 matches. Returns false without a match.
    func match(
        _ subject: UnsafeRawBufferPointer,
        scratch: UnsafeMutableRawBufferPointer,
        groups: inout (regmatch_t, regmatch_t, regmatch_t, regmatch_t, regmatch_t, regmatch_t, regmatch_t, regmatch_t,
            regmatch_t, regmatch_t)
    ) -> Bool {
        guard subject.count < scratch.count else { return false }
        UnsafeMutableRawBufferPointer(rebasing: scratch[0..<subject.count]).copyMemory(from: subject)
        scratch[subject.count] = 0
        return withUnsafeMutableBytes(of: &groups) { raw in
            regexec(&regex, scratch.baseAddress!.assumingMemoryBound(to: CChar.self), 10,
                raw.baseAddress!.assumingMemoryBound(to: regmatch_t.self), 0) == 0
        }
    }
}

/// An integer pattern: a range `a:b` (either end open) or an operator `eq|ge|gt|le|lt N`.
struct IntegerPattern {
    let low: Int64
    let high: Int64

    init?(_ text: String) {
        let words = text.split(separator: " ").map(String.init)
        if words.count == 2, let v = Int64(words[1]) {
            switch words[0] {
            case "eq": (low, high) = (v, v)
            case "ge": (low, high) = (v, .max)
            case "gt": (low, high) = (v &+ 1, .max)
            case "le": (low, high) = (.min, v)
            case "lt": (low, high) = (.min, v &- 1)
            default: return nil
            }
            return
        }
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1, let v = Int64(parts[0]) {
            (low, high) = (v, v)
        } else if parts.count == 2 {
            let a = parts[0].isEmpty ? Int64.min : Int64(parts[0])
            let b = parts[1].isEmpty ? Int64.max : Int64(parts[1])
            guard let a, let b, a <= b else { return nil }
            (low, high) = (a, b)
        } else {
            return nil
        }
    }

    func contains(_ v: Int64) -> Bool { v >= low && v <= high }
}

/// One compiled ACL test: a fetch, a match method and its patterns.
struct CompiledTest {
    enum Patterns {
        case none
        case networks([IPNetwork])
        case integers([IntegerPattern])
        case strings([[UInt8]])
        case regexes([CompiledRegex])
    }

    let fetch: CompiledFetch
    let method: MatchMethod
    let ignoreCase: Bool
    let patterns: Patterns

    /// Compiles `test`, or explains why the runtime cannot evaluate it.
    static func compile(_ test: ACLTest) -> Result<CompiledTest, ConfigError> {
        let fetch: CompiledFetch
        switch CompiledFetch.compile(test.fetch, converters: test.converters, location: test.location) {
        case .success(let f): fetch = f
        case .failure(let e): return .failure(e)
        }
        let patterns: Patterns
        switch test.method {
        case .found, .boolean:
            patterns = .none
        case .ip:
            var nets: [IPNetwork] = []
            for p in test.patterns {
                guard let n = IPNetwork(p) else {
                    return .failure(ConfigError(test.location, "'\(p)' is not a valid IPv4 or IPv6 address or network"))
                }
                nets.append(n)
            }
            patterns = .networks(nets)
        case .integer, .length:
            var ints: [IntegerPattern] = []
            for p in test.patterns {
                guard let i = IntegerPattern(p) else {
                    return .failure(ConfigError(test.location, "'\(p)' is not a valid integer, range or comparison"))
                }
                ints.append(i)
            }
            patterns = .integers(ints)
        case .regex:
            var res: [CompiledRegex] = []
            for p in test.patterns {
                guard let r = CompiledRegex(p, ignoreCase: test.ignoreCase) else {
                    return .failure(ConfigError(test.location, "invalid regex '\(p)'"))
                }
                res.append(r)
            }
            patterns = .regexes(res)
        case .exact, .prefix, .suffix, .substring, .domain, .directory:
            patterns = .strings(test.patterns.map { Array((test.ignoreCase ? $0.lowercased() : $0).utf8) })
        }
        return .success(CompiledTest(fetch: fetch, method: test.method, ignoreCase: test.ignoreCase, patterns: patterns))
    }

    /// Evaluates the test: any value matching any pattern is a match.
    func evaluate(_ ctx: inout SampleContext) -> MatchResult {
        var matched = false
        var anyValue = false
        let scratch = ctx.session.loop.regexScratch
        let outcome = fetch.fetch(&ctx) { value in
            anyValue = true
            matched = matches(value, scratch: scratch)
            return matched
        }
        if matched { return .yes }
        if case .needMore = outcome { return .needMore }
        if method == .found { return anyValue ? .yes : .no }
        return .no
    }

    private func matches(_ value: SampleValue, scratch: UnsafeMutableRawBufferPointer) -> Bool {
        if method == .found { return true }
        switch (value, patterns) {
        case (.boolean(let b), _):
            return b
        case (.integer(let v), .integers(let ints)):
            return ints.contains { $0.contains(v) }
        case (.integer(let v), .none):
            return v != 0
        case (.address(let a), .networks(let nets)):
            return nets.contains { $0.contains(a) }
        case (.bytes(let b), .integers(let ints)):
            if method == .length { return ints.contains { $0.contains(Int64(b.count)) } }
            guard let v = CompiledFetch.parseInteger(b) else { return false }
            return ints.contains { $0.contains(v) }
        case (.bytes(let b), .regexes(let res)):
            return res.contains { $0.matches(b, scratch: scratch) }
        case (.bytes(let b), .strings(let strs)):
            return strs.contains { p in p.withUnsafeBytes { Self.matchString(b, $0, method: method, ignoreCase: ignoreCase) } }
        case (.address(let a), .strings(let strs)):
            // An address compared as text (rare).
            var line = LineBuffer(capacity: 0)
            line.appendAddress(a)
            return line.withBytes { b in
                strs.contains { p in p.withUnsafeBytes { Self.matchString(b, $0, method: method, ignoreCase: ignoreCase) } }
            }
        default:
            return false
        }
    }

    /// String match methods, ASCII case folded when -i (patterns are already lowercase then).
    static func matchString(
        _ s: UnsafeRawBufferPointer,
        _ p: UnsafeRawBufferPointer,
        method: MatchMethod,
        ignoreCase: Bool
    ) -> Bool {
        @inline(__always) func eq(_ a: UInt8, _ b: UInt8) -> Bool {
            if !ignoreCase { return a == b }
            let x = a >= 65 && a <= 90 ? a + 32 : a
            return x == b
        }
        func equalAt(_ offset: Int) -> Bool {
            for i in 0..<p.count where !eq(s[offset + i], p[i]) { return false }
            return true
        }
        switch method {
        case .exact:
            return s.count == p.count && equalAt(0)
        case .prefix:
            return s.count >= p.count && equalAt(0)
        case .suffix:
            return s.count >= p.count && equalAt(s.count - p.count)
        case .substring:
            guard s.count >= p.count else { return false }
            for o in 0...(s.count - p.count) where equalAt(o) { return true }
            return false
        case .domain, .directory:
            // The pattern must appear delimited by separators (`.`-ish for dom, `/` for dir) or the ends.
            guard s.count >= p.count else { return false }
            func isDelimiter(_ c: UInt8) -> Bool {
                method == .directory ? c == UInt8(ascii: "/")
                    : c == UInt8(ascii: ".") || c == UInt8(ascii: "/") || c == UInt8(ascii: "?") || c == UInt8(ascii: ":")
            }
            for o in 0...(s.count - p.count) where equalAt(o) {
                let before = o == 0 || isDelimiter(s[o - 1])
                let after = o + p.count == s.count || isDelimiter(s[o + p.count])
                if before && after { return true }
            }
            return false
        default:
            return false
        }
    }
}

/// A condition over a proxy's compiled ACLs (each a list of OR-ed tests).
struct CompiledCondition {
    let isUnless: Bool
    /// OR of ANDs of (negated, acl index).
    let alternatives: [[(negated: Bool, acl: Int)]]

    init(_ condition: Condition) {
        isUnless = condition.polarity == .unless
        alternatives = condition.alternatives.map { $0.map { (negated: $0.negated, acl: $0.aclIndex) } }
    }

    /// True when a test of an ACL it names fetches from the HTTP message.
    func readsHTTPMessage(_ acls: [[CompiledTest]]) -> Bool {
        alternatives.contains { terms in
            terms.contains { term in
                term.acl < acls.count && acls[term.acl].contains { $0.fetch.readsHTTPMessage }
            }
        }
    }

    /// Three-valued evaluation: an alternative is true when all its terms are, unknown when none is false and
    /// one needs more data.
    func evaluate(_ acls: [[CompiledTest]], _ ctx: inout SampleContext) -> MatchResult {
        combine { index in
            var acl = MatchResult.no
            for test in acls[index] {
                let r = test.evaluate(&ctx)
                if case .yes = r { return .yes }
                if case .needMore = r { acl = .needMore }
            }
            return acl
        }
    }

    /// The condition's logic over ACL results (OR of ANDs, negation, unless), three-valued.
    func combine(_ aclResult: (Int) -> MatchResult) -> MatchResult {
        var sawNeedMore = false
        for alternative in alternatives {
            var result = MatchResult.yes
            for term in alternative {
                var acl = aclResult(term.acl)
                if term.negated {
                    if case .yes = acl { acl = .no } else if case .no = acl { acl = .yes }
                }
                if case .no = acl {
                    result = .no
                    break
                }
                if case .needMore = acl { result = .needMore }
            }
            if case .yes = result { return isUnless ? .no : .yes }
            if case .needMore = result { sawNeedMore = true }
        }
        if sawNeedMore { return .needMore }
        return isUnless ? .yes : .no
    }

    /// Two-valued evaluation for places that cannot wait (needMore counts as false).
    func holds(_ acls: [[CompiledTest]], _ ctx: inout SampleContext) -> Bool {
        if case .yes = evaluate(acls, &ctx) { return true }
        return false
    }
}

/// A config error found while building the runtime (after parsing): rendered like the parser's alerts.
struct ConfigError: Error {
    let location: SourceLocation?
    let message: String

    init(_ location: SourceLocation?, _ message: String) {
        self.location = location
        self.message = message
    }

    /// `[ALERT] parsing [file:line] : message`.
    var rendered: String {
        if let l = location { return "[ALERT] parsing [\(l.file):\(l.line)] : \(message)" }
        return "[ALERT] \(message)"
    }
}
