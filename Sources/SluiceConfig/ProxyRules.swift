// SPDX-License-Identifier: Apache-2.0
// ProxyRules: the multi-word proxy keywords: `use_backend ... [if|unless cond]`, `tcp-request connection|content
// accept|reject [cond]`, `tcp-request inspect-delay`, `timeout <name>`, `option <name>`, `balance`, `log`. Each
// sub-keyword HAProxy knows and sluice does not is refused as `'<kw> <sub>' is not supported by sluice`.

/// Parsers for the proxy keywords with sub-keywords.
enum ProxyRules {
    /// Supported timeouts: name -> the capability a proxy needs for it to apply (nil: any).
    static let timeouts: [String: ProxyCapabilities?] = [
        "client": .frontend, "client-fin": .frontend, "connect": .backend, "server": .backend,
        "server-fin": .backend, "queue": .backend, "tunnel": .backend, "check": .backend, "http-request": nil,
        "http-keep-alive": nil,
    ]

    /// Stores timeout `name` (a key of `timeouts`) in the model.
    private static func set(_ name: String, _ value: Int?, in timeouts: inout Timeouts) {
        switch name {
        case "client": timeouts.client = value
        case "client-fin": timeouts.clientFin = value
        case "connect": timeouts.connect = value
        case "server": timeouts.server = value
        case "server-fin": timeouts.serverFin = value
        case "queue": timeouts.queue = value
        case "tunnel": timeouts.tunnel = value
        case "check": timeouts.check = value
        case "http-request": timeouts.httpRequest = value
        default: timeouts.httpKeepAlive = value
        }
    }

    /// Supported options: name -> the capability a proxy needs for it to apply (nil: any).
    static let options: [String: ProxyCapabilities?] = [
        "redispatch": .backend,
        "tcplog": nil,
        "httplog": .frontend,
        "dontlognull": .frontend,
        "log-health-checks": .backend,
        "http-keep-alive": nil,
        "http-server-close": nil,
        "httpclose": nil,
        "forwardfor": nil,
        "httpchk": .backend,
    ]

    /// Supported options that take arguments (the others take none).
    private static let optionsWithArguments: Set<String> = ["forwardfor", "httpchk"]

    /// `balance` algorithms sluice supports, by name.
    static let balanceAlgorithms: [String: BalanceAlgorithm] = [
        "roundrobin": .roundRobin, "static-rr": .staticRoundRobin, "leastconn": .leastConn, "first": .first,
        "source": .source, "uri": .uri,
    ]

    /// `balance` algorithms HAProxy 2.6 knows that sluice does not.
    private static let knownBalanceAlgorithms: Set<String> = ["url_param", "hdr", "rdp-cookie", "hash"]

    /// `timeout <name> <time>`. A zero time means "no timeout" (nil), as in HAProxy.
    static func parseTimeout(_ line: ConfigLine, draft: inout ProxyDraft, context: inout ParseContext) {
        let words = line.words
        guard words.count >= 2 else {
            context.alert("'timeout' expects a timeout name and a time value", line)
            return
        }
        let name = words[1]
        let keyword = "timeout \(name)"
        guard let needs = timeouts[name] else {
            if HAProxyKeywords.timeouts.contains(name) {
                context.alert("'\(keyword)' is not supported by sluice", line)
            } else {
                let candidates = timeouts.keys.sorted() + HAProxyKeywords.timeouts.sorted()
                context.alert(
                    "unknown timeout '\(name)'" + KeywordSuggestion.suffix(for: name, among: candidates),
                    line
                )
            }
            return
        }
        guard words.count >= 3 else {
            context.alert("'\(keyword)' expects a time value (<number>[us|ms|s|m|h|d])", line)
            return
        }
        guard context.expectNoMoreThan(2, line, keyword: keyword),
            let ms = context.milliseconds(words[2], keyword: keyword, line)
        else { return }
        if draft.kind != .defaults, let needs, !draft.config.capabilities.contains(needs) {
            let capability = needs == .frontend ? "frontend" : "backend"
            context.warning("'\(keyword)' ignored because \(draft.displayName) has no \(capability) capability", line)
            return
        }
        set(name, ms == 0 ? nil : ms, in: &draft.config.timeouts)
    }

    /// `option <name>` with an optional `no` prefix (turns it off; for the HTTP connection modes, off means
    /// keep-alive) or `default` prefix (takes the value of the defaults section, as HAProxy does: off without one).
    static func parseOption(_ p: ProxyLine, draft: inout ProxyDraft, context: inout ParseContext) {
        let words = p.words
        guard words.count >= 2 else {
            context.alert("'option' expects an option name", p.line)
            return
        }
        let name = words[1]
        let keyword = "option \(name)"
        guard let needs = options[name] else {
            if HAProxyKeywords.options.contains(name) {
                context.alert("'\(keyword)' is not supported by sluice", p.line)
            } else {
                let candidates = options.keys.sorted() + HAProxyKeywords.options.sorted()
                context.alert(
                    "unknown option '\(name)'" + KeywordSuggestion.suffix(for: name, among: candidates),
                    p.line
                )
            }
            return
        }
        if let prefix = p.prefix, words.count > 2 {
            _ = context.expectNoMoreThan(1, p.line, keyword: "\(prefix) \(keyword)")
            return
        }
        if words.count > 2 && !optionsWithArguments.contains(name) {
            context.alert("'\(keyword) \(words[2])' is not supported by sluice", p.line)
            return
        }
        if draft.kind != .defaults, let needs, !draft.config.capabilities.contains(needs) {
            let capability = needs == .frontend ? "frontend" : "backend"
            context.warning("'\(keyword)' ignored because \(draft.displayName) has no \(capability) capability", p.line)
            return
        }
        if p.prefix == "default" {
            restoreOption(name, from: draft.inherited ?? ProxyConfig(name: "", capabilities: .listen, location: p.line.location), into: &draft.config)
            return
        }
        let enabled = p.prefix == nil
        switch name {
        case "redispatch": draft.config.redispatch = enabled
        case "tcplog": draft.config.tcpLog = enabled
        case "dontlognull": draft.config.dontLogNull = enabled
        case "log-health-checks": draft.config.logsHealthChecks = enabled
        case "http-keep-alive", "http-server-close", "httpclose":
            // One mode per proxy; `no option <mode>` goes back to the default, keep-alive (HAProxy's PR_O_HTTP_MODE).
            draft.config.httpConnectionMode = enabled ? HTTPConnectionMode(rawValue: name)! : .keepAlive
        case "forwardfor":
            if enabled {
                guard let forwardFor = HTTPRules.parseForwardFor(p.line, context: &context) else { return }
                draft.config.forwardFor = forwardFor
            } else {
                draft.config.forwardFor = nil
            }
        case "httpchk":
            if enabled {
                guard let check = CheckParser.parseOptionHTTPCheck(p.line, context: &context) else { return }
                draft.config.httpCheck = check
            } else {
                draft.config.httpCheck = nil
            }
        default: draft.config.httpLog = enabled
        }
    }

    /// `default option <name>`: the option's value as the defaults section had it.
    private static func restoreOption(_ name: String, from source: ProxyConfig, into config: inout ProxyConfig) {
        switch name {
        case "redispatch": config.redispatch = source.redispatch
        case "tcplog": config.tcpLog = source.tcpLog
        case "dontlognull": config.dontLogNull = source.dontLogNull
        case "log-health-checks": config.logsHealthChecks = source.logsHealthChecks
        case "http-keep-alive", "http-server-close", "httpclose": config.httpConnectionMode = source.httpConnectionMode
        case "forwardfor": config.forwardFor = source.forwardFor
        case "httpchk": config.httpCheck = source.httpCheck
        default: config.httpLog = source.httpLog
        }
    }

    /// `log global`, `log <target> ...`, `no log`.
    static func parseLog(_ p: ProxyLine, draft: inout ProxyDraft, context: inout ParseContext) {
        if let prefix = p.prefix {
            guard prefix == "no" else {
                context.alert("'default log' is not supported by sluice", p.line)
                return
            }
            guard context.expectNoMoreThan(0, p.line, keyword: "no log") else { return }
            draft.config.logTargets = []
            draft.config.usesGlobalLog = false
            return
        }
        if p.words.count >= 2 && p.words[1] == "global" {
            guard context.expectNoMoreThan(1, p.line, keyword: "log global") else { return }
            draft.config.usesGlobalLog = true
            return
        }
        if let target = LogTargetParser.parse(p.line, context: &context) {
            draft.config.logTargets.append(target)
        }
    }

    /// `balance <algorithm>`; `random` and `random(N)` (N >= 1 draws, default 2).
    static func parseBalance(_ line: ConfigLine, draft: inout ProxyDraft, context: inout ParseContext) {
        let words = line.words
        guard words.count >= 2 else {
            context.alert("'balance' expects an algorithm", line)
            return
        }
        let name = words[1]
        let base = name.split(separator: "(", maxSplits: 1).first.map(String.init) ?? name
        var algorithm: BalanceAlgorithm
        if let known = balanceAlgorithms[name] {
            algorithm = known
        } else if base == "random" {
            var draws = 2
            if name != "random" {
                let inner = name.dropFirst("random(".count)
                guard name.hasSuffix(")"), let count = Units.integer(String(inner.dropLast())), count >= 1 else {
                    context.alert("'balance random' expects a number of draws of at least 1, as in 'random(2)'", line)
                    return
                }
                draws = count
            }
            algorithm = .random(draws: draws)
        } else if knownBalanceAlgorithms.contains(base) {
            context.alert("'balance \(base)' is not supported by sluice", line)
            return
        } else {
            let candidates = balanceAlgorithms.keys.sorted() + ["random"] + knownBalanceAlgorithms.sorted()
            context.alert(
                "unknown balance algorithm '\(name)'" + KeywordSuggestion.suffix(for: base, among: candidates),
                line
            )
            return
        }
        if words.count > 2 {
            context.alert("'balance \(name) \(words[2])' is not supported by sluice", line)
            return
        }
        draft.config.balance = algorithm
    }

    /// `use_backend <name> [if|unless <condition>]`.
    static func parseUseBackend(_ line: ConfigLine, draft: inout ProxyDraft, context: inout ParseContext) {
        let words = line.words
        guard words.count >= 2 else {
            context.alert("'use_backend' expects a backend name", line)
            return
        }
        let name = words[1]
        if name.contains("%[") {
            draft.hasDynamicBackend = true
            context.alert("dynamic backend name '\(name)' is not supported by sluice", line)
            return
        }
        draft.referencedBackends.insert(name)
        var condition: Condition?
        if words.count > 2 {
            guard words[2] == "if" || words[2] == "unless" else {
                context.alert(
                    "'use_backend \(name)' expects 'if' or 'unless' followed by a condition, got '\(words[2])'",
                    line
                )
                return
            }
            switch ConditionParser.parse(
                words[2...],
                draft: &draft,
                location: line.location,
                environment: context.environment
            )
            {
            case .success(let parsed): condition = parsed
            case .failure(let failure):
                if let message = failure.message { context.alert(message, line) }
                return
            }
        }
        draft.config.backendSwitchRules.append(
            BackendSwitchRule(backend: name, condition: condition, location: line.location)
        )
    }

    /// `tcp-request inspect-delay <time>` and `tcp-request connection|content accept|reject [cond]`.
    static func parseTCPRequest(_ line: ConfigLine, draft: inout ProxyDraft, context: inout ParseContext) {
        let words = line.words
        guard words.count >= 2 else {
            context.alert("'tcp-request' expects 'inspect-delay', 'connection', 'session' or 'content'", line)
            return
        }
        let stageName = words[1]
        let stage: TCPRequestRule.Stage
        let known: Set<String>
        switch stageName {
        case "inspect-delay":
            guard words.count >= 3 else {
                context.alert("'tcp-request inspect-delay' expects a time value", line)
                return
            }
            guard context.expectNoMoreThan(2, line, keyword: "tcp-request inspect-delay"),
                let ms = context.milliseconds(words[2], keyword: "tcp-request inspect-delay", line)
            else { return }
            draft.config.inspectDelayMs = ms
            return
        case "connection":
            stage = .connection
            known = HAProxyKeywords.tcpRequestConnectionActions
            if draft.kind != .defaults && !draft.config.capabilities.contains(.frontend) {
                context.alert(
                    "'tcp-request connection' not allowed because \(draft.displayName) has no frontend capability",
                    line
                )
                return
            }
        case "content":
            stage = .content
            known = HAProxyKeywords.tcpRequestContentActions
        case "session":
            context.alert("'tcp-request session' is not supported by sluice", line)
            return
        default:
            context.alert(
                "'tcp-request' expects 'inspect-delay', 'connection', 'session' or 'content', got '\(stageName)'",
                line
            )
            return
        }
        let keyword = "tcp-request \(stageName)"
        if draft.kind == .defaults {
            context.alert("'\(keyword)' rules in a 'defaults' section are not supported by sluice", line)
            return
        }
        guard words.count >= 3 else {
            context.alert("'\(keyword)' expects an action ('accept' or 'reject')", line)
            return
        }
        let actionName = words[2]
        let action: TCPRequestRule.Action
        switch actionName {
        case "accept": action = .accept
        case "reject": action = .reject
        default:
            let base = actionName.split(separator: "(", maxSplits: 1).first.map(String.init) ?? actionName
            if known.contains(base) || base.hasPrefix("lua.") {
                context.alert("'\(keyword) \(base)' is not supported by sluice", line)
            } else {
                let candidates = ["accept", "reject"] + known.sorted()
                context.alert(
                    "unknown action '\(actionName)' for '\(keyword)'"
                        + KeywordSuggestion.suffix(for: base, among: candidates),
                    line
                )
            }
            return
        }
        var condition: Condition?
        if words.count > 3 {
            guard words[3] == "if" || words[3] == "unless" else {
                context.alert(
                    "'\(keyword) \(actionName)' expects 'if' or 'unless' followed by a condition, got '\(words[3])'",
                    line
                )
                return
            }
            switch ConditionParser.parse(
                words[3...],
                draft: &draft,
                location: line.location,
                environment: context.environment
            )
            {
            case .success(let parsed): condition = parsed
            case .failure(let failure):
                if let message = failure.message { context.alert(message, line) }
                return
            }
        }
        draft.config.tcpRequestRules.append(
            TCPRequestRule(stage: stage, action: action, condition: condition, location: line.location)
        )
    }
}
