// SPDX-License-Identifier: Apache-2.0
// ConditionParser: `if|unless <terms>` into a Condition: named ACLs, HAProxy's predefined ACLs (TRUE, FALSE,
// LOCALHOST), anonymous `{ fetch ... }` ACLs, `!`, `||`/`or`, implicit AND. Anonymous and predefined ACLs are added
// to the proxy's `acls` so every term is an index. An ACL must be declared above its first use, as in HAProxy.

/// Parser for rule conditions.
enum ConditionParser {
    /// Why a condition did not parse. `message` nil means the cause already has its alert (an ACL whose own
    /// line failed), so the caller drops the rule without another one.
    struct Failure: Error {
        var message: String?
    }

    /// Predefined ACLs sluice evaluates, by name: the test they stand for.
    static func predefinedTest(_ name: String, location: SourceLocation) -> ACLTest? {
        switch name {
        case "TRUE":
            return ACLTest(
                fetch: SampleFetch(name: "always_true"),
                method: .boolean,
                ignoreCase: false,
                patterns: [],
                location: location
            )
        case "FALSE":
            return ACLTest(
                fetch: SampleFetch(name: "always_false"),
                method: .boolean,
                ignoreCase: false,
                patterns: [],
                location: location
            )
        case "LOCALHOST":
            return ACLTest(
                fetch: SampleFetch(name: "src"),
                method: .ip,
                ignoreCase: false,
                patterns: ["127.0.0.1/8", "::1"],
                location: location
            )
        default:
            return nil
        }
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
                let known = draft.aclIndexByName.keys.sorted() + ["TRUE", "FALSE", "LOCALHOST"]
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
