// SPDX-License-Identifier: Apache-2.0
// ProxySection: the keyword table of `defaults`, `frontend`, `backend` and `listen` (where each keyword is allowed,
// as in HAProxy's keyword matrix, configuration.txt §4.1) and the dispatcher that refuses known-but-unsupported
// and unknown keywords. Rules (tcp-request, use_backend), options and timeouts live in ProxyRules.swift, HTTP rules
// in HTTPRules.swift, stats in StatsParser.swift, checks in CheckParser.swift.

/// A supported proxy keyword: where it may appear and its parser.
struct ProxyKeyword: Sendable {
    /// A keyword's parser; `line.words[0]` is the keyword (a `no`/`default` prefix already removed).
    typealias Handler = @Sendable (ProxyLine, inout ProxyDraft, inout ParseContext) -> Void

    /// Allowed in `defaults` sections.
    var inDefaults: Bool
    /// Capability the proxy needs (nil: any proxy).
    var needs: ProxyCapabilities?
    /// In a proxy without `needs`: a warning and the line is ignored (HAProxy's behaviour), instead of an alert.
    var isIgnoredWithoutCapability = false
    var handler: Handler
}

/// A proxy-section line with its optional `no`/`default` prefix removed.
struct ProxyLine {
    var line: ConfigLine
    /// "no" or "default" when the line started with it.
    var prefix: String?
    var words: [String] { line.words }
}

/// Parsers for proxy sections.
enum ProxySection {
    /// Supported proxy keywords.
    static let keywords: [String: ProxyKeyword] = [
        "mode": ProxyKeyword(inDefaults: true, needs: nil) { p, draft, context in
            guard let value = context.singleArgument(p.line, what: "'tcp' or 'http'") else { return }
            switch value {
            case "tcp": draft.config.mode = .tcp
            case "http": draft.config.mode = .http
            case "health", "log": context.alert("'mode \(value)' is not supported by sluice", p.line)
            default: context.alert("'mode' expects 'tcp' or 'http', got '\(value)'", p.line)
            }
        },
        "bind": ProxyKeyword(inDefaults: false, needs: .frontend) { p, draft, context in
            draft.hasBindLine = true
            if let bind = BindParser.parse(p.line, context: &context) { draft.config.binds.append(bind) }
        },
        "maxconn": ProxyKeyword(inDefaults: true, needs: .frontend, isIgnoredWithoutCapability: true) {
            p,
            draft,
            context in
            guard let value = context.singleArgument(p.line, what: "an integer argument"),
                let number = context.integer(value, in: 1...Units.maxValue, keyword: "maxconn", p.line)
            else { return }
            draft.config.maxconn = number
        },
        "default_backend": ProxyKeyword(inDefaults: true, needs: .frontend) { p, draft, context in
            guard let name = context.singleArgument(p.line, what: "a backend name") else { return }
            if name.contains("%[") {
                draft.hasDynamicBackend = true
                context.alert("dynamic backend name '\(name)' is not supported by sluice", p.line)
                return
            }
            draft.referencedBackends.insert(name)
            draft.config.defaultBackend = name
            draft.defaultBackendLocation = p.line.location
        },
        "use_backend": ProxyKeyword(inDefaults: false, needs: .frontend) { p, draft, context in
            ProxyRules.parseUseBackend(p.line, draft: &draft, context: &context)
        },
        "server": ProxyKeyword(inDefaults: false, needs: .backend) { p, draft, context in
            draft.hasServerLine = true
            guard let server = ServerParser.parseServer(p.line, draft: draft, context: &context) else { return }
            if let previous = draft.serverLocations[server.name] {
                context.alert(
                    "\(draft.displayName): another server named '\(server.name)' was already defined at \(previous),"
                        + " please use distinct names",
                    p.line
                )
                return
            }
            draft.serverLocations[server.name] = server.location
            draft.config.servers.append(server)
        },
        "default-server": ProxyKeyword(inDefaults: true, needs: .backend) { p, draft, context in
            var options = draft.defaultServer
            if ServerParser.parseOptions(
                p.line,
                from: 1,
                into: &options,
                subject: "'default-server'",
                context: &context
            ) {
                draft.defaultServer = options
            }
        },
        "balance": ProxyKeyword(inDefaults: true, needs: .backend) { p, draft, context in
            ProxyRules.parseBalance(p.line, draft: &draft, context: &context)
        },
        "hash-type": ProxyKeyword(inDefaults: true, needs: .backend) { p, draft, context in
            let words = p.words
            guard words.count >= 2 else {
                context.alert("'hash-type' expects 'map-based' or 'consistent'", p.line)
                return
            }
            guard let type = HashType(rawValue: words[1]) else {
                context.alert("'hash-type' expects 'map-based' or 'consistent', got '\(words[1])'", p.line)
                return
            }
            if words.count > 2 {
                context.alert("hash function '\(words[2])' of 'hash-type' is not supported by sluice", p.line)
                return
            }
            draft.config.hashType = type
        },
        "retries": ProxyKeyword(inDefaults: true, needs: .backend) { p, draft, context in
            guard let value = context.singleArgument(p.line, what: "an integer argument"),
                let number = context.integer(value, in: 0...1000, keyword: "retries", p.line)
            else { return }
            draft.config.retries = number
        },
        "timeout": ProxyKeyword(inDefaults: true, needs: nil) { p, draft, context in
            ProxyRules.parseTimeout(p.line, draft: &draft, context: &context)
        },
        "log": ProxyKeyword(inDefaults: true, needs: nil) { p, draft, context in
            ProxyRules.parseLog(p, draft: &draft, context: &context)
        },
        "option": ProxyKeyword(inDefaults: true, needs: nil) { p, draft, context in
            ProxyRules.parseOption(p, draft: &draft, context: &context)
        },
        "tcp-request": ProxyKeyword(inDefaults: true, needs: nil) { p, draft, context in
            ProxyRules.parseTCPRequest(p.line, draft: &draft, context: &context)
        },
        "http-request": ProxyKeyword(inDefaults: true, needs: nil) { p, draft, context in
            HTTPRules.parseHTTPRequest(p.line, draft: &draft, context: &context)
        },
        "http-response": ProxyKeyword(inDefaults: true, needs: nil) { p, draft, context in
            HTTPRules.parseHTTPResponse(p.line, draft: &draft, context: &context)
        },
        "redirect": ProxyKeyword(inDefaults: false, needs: nil) { p, draft, context in
            HTTPRules.parseRedirectKeyword(p.line, draft: &draft, context: &context)
        },
        "errorfile": ProxyKeyword(inDefaults: true, needs: nil) { p, draft, context in
            HTTPRules.parseErrorFile(p.line, draft: &draft, context: &context)
        },
        "http-reuse": ProxyKeyword(inDefaults: true, needs: .backend, isIgnoredWithoutCapability: true) {
            p,
            draft,
            context in
            HTTPRules.parseHTTPReuse(p.line, draft: &draft, context: &context)
        },
        "http-check": ProxyKeyword(inDefaults: true, needs: .backend) { p, draft, context in
            CheckParser.parseHTTPCheck(p.line, draft: &draft, context: &context)
        },
        "stats": ProxyKeyword(inDefaults: true, needs: nil) { p, draft, context in
            StatsParser.parseProxyStats(p.line, draft: &draft, context: &context)
        },
        "acl": ProxyKeyword(inDefaults: true, needs: nil) { p, draft, context in
            if draft.kind == .defaults {
                context.alert("'acl' in a 'defaults' section is not supported by sluice", p.line)
                return
            }
            ACLParser.parseACLLine(p.line, draft: &draft, context: &context)
        },
    ]

    /// Directives removed in HAProxy 2.1, with their replacement.
    static let removedTimeouts = [
        "contimeout": "timeout connect", "clitimeout": "timeout client",
        "srvtimeout": "timeout server",
    ]

    /// Keywords that accept a `no` or `default` prefix.
    private static let prefixable: Set<String> = ["option", "log"]

    /// Keywords whose second word names what is used (`stats enable`, `http-request set-header`): messages about
    /// them quote both words.
    static let multiWordKeywords: Set<String> = [
        "stats", "http-request", "http-response", "http-after-response", "http-check", "tcp-check", "tcp-response",
        "stick", "capture", "email-alert", "monitor", "external-check", "persist", "rate-limit", "declare",
    ]

    /// `kw` or `kw sub` (sub without its `(args)`) for a refused keyword.
    static func unsupportedName(_ words: [String]) -> String {
        guard multiWordKeywords.contains(words[0]), words.count > 1 else { return words[0] }
        let sub = words[1].split(separator: "(", maxSplits: 1).first.map(String.init) ?? words[1]
        return sub.isEmpty ? words[0] : "\(words[0]) \(sub)"
    }

    /// Parses one line of a proxy or defaults section into `draft`.
    static func parse(_ line: ConfigLine, draft: inout ProxyDraft, context: inout ParseContext) {
        var proxyLine = ProxyLine(line: line, prefix: nil)
        var keyword = line.words[0]
        if keyword == "no" || keyword == "default" {
            guard line.words.count >= 2 else {
                context.alert("'\(keyword)' expects a keyword after it", line)
                return
            }
            guard prefixable.contains(line.words[1]) else {
                context.alert("'\(keyword)' prefix is not supported for '\(line.words[1])'", line)
                return
            }
            proxyLine.prefix = keyword
            proxyLine.line.words.removeFirst()
            keyword = line.words[1]
        }
        let sectionName = draft.kind.rawValue
        if let spec = keywords[keyword] {
            if draft.kind == .defaults {
                guard spec.inDefaults else {
                    context.alert("'\(keyword)' not allowed in 'defaults' section", line)
                    return
                }
            } else if let needs = spec.needs, !draft.config.capabilities.contains(needs) {
                let capability = needs == .frontend ? "frontend" : "backend"
                if spec.isIgnoredWithoutCapability {
                    context.warning(
                        "'\(keyword)' ignored because \(draft.displayName) has no \(capability) capability",
                        line
                    )
                } else {
                    context.alert(
                        "'\(keyword)' not allowed because \(draft.displayName) has no \(capability) capability",
                        line
                    )
                }
                return
            }
            spec.handler(proxyLine, &draft, &context)
        } else if let replacement = removedTimeouts[keyword] {
            context.alert(
                "'\(keyword)' is not supported by sluice (removed in HAProxy 2.1): use '\(replacement)'",
                line
            )
        } else if HAProxyKeywords.proxy.contains(keyword) {
            context.alert("'\(unsupportedName(line.words))' is not supported by sluice", line)
        } else if HAProxyKeywords.global.contains(keyword) {
            context.alert("'\(keyword)' is not allowed in '\(sectionName)' section (it is a 'global' keyword)", line)
        } else {
            let candidates = keywords.keys.sorted() + HAProxyKeywords.proxy.sorted()
            context.alert(
                "unknown keyword '\(keyword)' in '\(sectionName)' section"
                    + KeywordSuggestion.suffix(for: keyword, among: candidates),
                line
            )
        }
    }
}
