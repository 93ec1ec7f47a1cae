// SPDX-License-Identifier: Apache-2.0
// ConditionParser: `if|unless <terms>` into a Condition: named ACLs, HAProxy's predefined ACLs (TRUE, FALSE,
// LOCALHOST, HTTP, METH_GET, ...), anonymous `{ fetch ... }` ACLs, `!`, `||`/`or`, implicit AND. Anonymous and
// predefined ACLs are added to the proxy's `acls` so every term is an index. An ACL must be declared above its
// first use, as in HAProxy.

/// Parser for rule conditions.
enum ConditionParser {
    /// Why a condition did not parse. `message` nil means the cause already has its alert (an ACL whose own
    /// line failed), so the caller drops the rule without another one.
    struct Failure: Error {
        var message: String?
    }

    /// Predefined ACLs sluice evaluates (HAProxy's list, configuration.txt §7.4, except RDP_COOKIE): name ->
    /// fetch, method and patterns.
    static let predefined: [String: (fetch: SampleFetch, method: MatchMethod, patterns: [String])] = {
        var table: [String: (fetch: SampleFetch, method: MatchMethod, patterns: [String])] = [
            "TRUE": (SampleFetch(name: "always_true"), .boolean, []),
            "FALSE": (SampleFetch(name: "always_false"), .boolean, []),
            "LOCALHOST": (SampleFetch(name: "src"), .ip, ["127.0.0.1/8", "::1"]),
            "HTTP": (SampleFetch(name: "req.proto_http"), .boolean, []),
            "HTTP_1.0": (SampleFetch(name: "req.ver"), .exact, ["1.0"]),
            "HTTP_1.1": (SampleFetch(name: "req.ver"), .exact, ["1.1"]),
            "HTTP_CONTENT": (SampleFetch(name: "req.hdr_val", argument: "content-length"), .integer, ["gt 0"]),
            "HTTP_URL_ABS": (SampleFetch(name: "url"), .regex, ["^[^/:]*://"]),
            "HTTP_URL_SLASH": (SampleFetch(name: "url"), .prefix, ["/"]),
            "HTTP_URL_STAR": (SampleFetch(name: "url"), .exact, ["*"]),
            "REQ_CONTENT": (SampleFetch(name: "req.len"), .integer, ["gt 0"]),
            "WAIT_END": (SampleFetch(name: "wait_end"), .boolean, []),
        ]
        for method in ["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "TRACE"] {
            table["METH_\(method)"] = (SampleFetch(name: "method"), .exact, [method])
        }
        return table
    }()

    /// The test predefined ACL `name` stands for, nil when sluice does not have it.
    static func predefinedTest(_ name: String, location: SourceLocation) -> ACLTest? {
        guard let entry = predefined[name] else { return nil }
        return ACLTest(
            fetch: entry.fetch,
            method: entry.method,
            ignoreCase: false,
            patterns: entry.patterns,
            location: location
        )
    }

    /// Parses `words` where `words.first` is `if` or `unless` and the condition runs to the end of the line.
    static func parse(
        _ words: ArraySlice<String>,
        draft: inout ProxyDraft,
        location: SourceLocation,
        environment: ConfigEnvironment
    ) -> Result<Condition, Failure> {
        guard let keyword = words.first, keyword == "if" || keyword == "unless" else {
            return .failure(Failure(message: "expected 'if' or 'unless' before a condition"))
        }
        let polarity: Condition.Polarity = keyword == "if" ? .ifTrue : .unless
        var alternatives: [[Condition.Term]] = []
        var current: [Condition.Term] = []
        var index = words.index(after: words.startIndex)
        guard index < words.endIndex else {
            return .failure(Failure(message: "missing condition after '\(keyword)'"))
        }
        var silentFailure = false
        while index < words.endIndex {
            var word = words[index]
            if word == "||" || word == "or" {
                guard !current.isEmpty else {
                    return .failure(Failure(message: "'\(word)' without a condition on its left"))
                }
                alternatives.append(current)
                current = []
                index += 1
                guard index < words.endIndex else {
                    return .failure(Failure(message: "'\(word)' without a condition on its right"))
                }
                continue
            }
            var negated = false
            while word.hasPrefix("!") {
                negated.toggle()
                word.removeFirst()
            }
            if word.isEmpty {
                // A lone "!" negates the next term.
                index += 1
                guard index < words.endIndex else {
                    return .failure(Failure(message: "'!' without a condition after it"))
                }
                var next = words[index]
                while next.hasPrefix("!") {
                    negated.toggle()
                    next.removeFirst()
                }
                word = next
            }
            if word == "{" {
                guard let close = words[index...].firstIndex(of: "}") else {
                    return .failure(Failure(message: "missing closing '}' in condition"))
                }
                let inner = words[(index + 1)..<close]
                guard !inner.isEmpty else {
                    return .failure(Failure(message: "empty anonymous ACL '{ }' in condition"))
                }
                if let nested = inner.firstIndex(of: "{") {
                    return .failure(Failure(message: "unexpected '\(words[nested])' inside an anonymous ACL"))
                }
                switch ACLParser.parseTest(inner, what: "anonymous ACL", location: location, environment: environment) {
                case .failure(let failure):
                    return .failure(Failure(message: failure.message))
                case .success(let test):
                    draft.config.acls.append(ACLConfig(name: nil, tests: [test]))
                    current.append(Condition.Term(negated: negated, aclIndex: draft.config.acls.count - 1))
                }
                index = close + 1
                continue
            }
            if word == "}" {
                return .failure(Failure(message: "unexpected '}' in condition"))
            }
            if let aclIndex = draft.aclIndexByName[word] {
                current.append(Condition.Term(negated: negated, aclIndex: aclIndex))
            } else if draft.failedACLNames.contains(word) {
                // Keep a placeholder term so the rest of the condition is still checked; never returned.
                silentFailure = true
                current.append(Condition.Term(negated: negated, aclIndex: -1))
            } else if let test = predefinedTest(word, location: location) {
                draft.aclIndexByName[word] = draft.config.acls.count
                draft.config.acls.append(ACLConfig(name: word, tests: [test]))
                current.append(Condition.Term(negated: negated, aclIndex: draft.config.acls.count - 1))
            } else if HAProxyKeywords.predefinedACLs.contains(word) {
                return .failure(Failure(message: "predefined ACL '\(word)' is not supported by sluice"))
            } else {
                let known = draft.aclIndexByName.keys.sorted() + predefined.keys.sorted()
                return .failure(
                    Failure(message: "no such ACL: '\(word)'" + KeywordSuggestion.suffix(for: word, among: known))
                )
            }
            index += 1
        }
        if silentFailure { return .failure(Failure(message: nil)) }
        alternatives.append(current)
        return .success(Condition(polarity: polarity, alternatives: alternatives))
    }
}
