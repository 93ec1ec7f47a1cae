// SPDX-License-Identifier: Apache-2.0
// Validation: the second pass, over every proxy that parsed. `resolve` settles what needs the whole file (server
// `verify` from `ssl-server-verify`, `http-check` folded into `option httpchk`, HTTP-only settings dropped from mode
// tcp proxies with HAProxy's warnings). `check` reads the result: backend references and mode agreement, binds,
// missing timeouts and unused backends (warnings, as HAProxy 2.6), fetches used where they cannot be evaluated
// (HTTP fetches in mode tcp: alert; rules that can never match: warning), and server TLS verification.

/// Checks that need the whole configuration.
enum Validation {
    /// Settles what one proxy's lines could not decide alone; runs before `check`.
    static func resolve(_ proxy: inout ProxyDraft, global: GlobalSettings, context: inout ParseContext) {
        for index in proxy.config.servers.indices where !proxy.config.servers[index].options.tls.isVerifySet {
            proxy.config.servers[index].options.tls.verify = global.tls.serverVerify
        }
        CheckParser.resolve(&proxy, context: &context)
        guard proxy.kind != .defaults, proxy.config.mode == .tcp else { return }
        // HAProxy 2.6 ignores these in a mode tcp proxy with a warning (cfgparse.c, check_config_validity).
        let name = proxy.displayName
        let location = proxy.config.location
        for keyword in ["http-request", "http-response", "redirect"] where proxy.httpRuleKeywords.contains(keyword) {
            context.sink.warning("'\(keyword)' rules ignored for \(name) as they require HTTP mode", at: location)
        }
        proxy.config.httpRequestRules = []
        proxy.config.httpResponseRules = []
        if proxy.config.stats != nil {
            context.sink.warning("'stats' statement ignored for \(name) as it requires HTTP mode", at: location)
            proxy.config.stats = nil
        }
        if proxy.config.forwardFor != nil {
            context.sink.warning("'option forwardfor' ignored for \(name) as it requires HTTP mode", at: location)
            proxy.config.forwardFor = nil
        }
    }

    /// Runs every check over `proxies` (sections whose header failed are skipped).
    static func check(proxies: [ProxyDraft], context: inout ParseContext) {
        var backendsByName: [String: ProxyDraft] = [:]
        for proxy in proxies where proxy.config.capabilities.contains(.backend) {
            if backendsByName[proxy.config.name] == nil { backendsByName[proxy.config.name] = proxy }
        }
        var used: Set<String> = []
        var anyDynamic = false
        for proxy in proxies where proxy.config.capabilities.contains(.frontend) {
            if let name = proxy.config.defaultBackend { used.insert(name) }
            used.formUnion(proxy.referencedBackends)
            anyDynamic = anyDynamic || proxy.hasDynamicBackend
        }

        for proxy in proxies where proxy.isValid {
            let config = proxy.config
            if config.capabilities.contains(.frontend) {
                checkBinds(proxy, context: &context)
                if let name = config.defaultBackend {
                    checkReference(
                        from: proxy,
                        to: name,
                        keyword: "default_backend",
                        location: proxy.defaultBackendLocation ?? config.location,
                        backends: backendsByName,
                        context: &context
                    )
                }
                for rule in config.backendSwitchRules {
                    checkReference(
                        from: proxy,
                        to: rule.backend,
                        keyword: "use_backend",
                        location: rule.location,
                        backends: backendsByName,
                        context: &context
                    )
                }
            }
            checkTimeouts(proxy, context: &context)
            checkConditions(proxy, context: &context)
            checkServers(proxy, context: &context)
            // A backend without any server line only holds tables or is a placeholder: not worth a warning.
            if proxy.kind == .backend && proxy.hasServerLine && !anyDynamic && !used.contains(config.name) {
                context.sink.warning("backend '\(config.name)' is not used by any frontend", at: config.location)
            }
        }
    }

    /// A `frontend` needs a `bind` (alert); a `listen` without one only works as a backend (warning).
    private static func checkBinds(_ proxy: ProxyDraft, context: inout ParseContext) {
        for bind in proxy.config.binds where proxy.config.mode == .http {
            guard let tls = bind.tls, tls.alpn.contains("h2") else { continue }
            context.sink.warning(
                "'bind' : 'alpn h2' ignored: sluice speaks HTTP/1.1 only, so 'h2' is not offered"
                    + (tls.alpn.contains("http/1.1") ? "" : " (add 'http/1.1')"),
                at: bind.location
            )
        }
        guard !proxy.hasBindLine else { return }
        if proxy.kind == .frontend {
            context.sink.alert("frontend '\(proxy.config.name)' has no 'bind' directive", at: proxy.config.location)
        } else {
            context.sink.warning(
                "listen '\(proxy.config.name)' has no 'bind' directive; it only works as a backend",
                at: proxy.config.location
            )
        }
    }

    /// A referenced backend must exist and run in the same mode as the frontend.
    private static func checkReference(
        from proxy: ProxyDraft,
        to name: String,
        keyword: String,
        location: SourceLocation,
        backends: [String: ProxyDraft],
        context: inout ParseContext
    ) {
        guard let backend = backends[name] else {
            let suggestion = KeywordSuggestion.suffix(for: name, among: backends.keys.sorted())
            context.sink.alert(
                "\(proxy.displayName): unable to find required \(keyword): '\(name)'\(suggestion)",
                at: location
            )
            return
        }
        let mode = proxy.config.mode
        let backendMode = backend.config.mode
        if mode != backendMode {
            context.sink.alert(
                "\(proxy.displayName) (mode \(mode.rawValue)) cannot use \(backend.displayName) (mode"
                    + " \(backendMode.rawValue)) in '\(keyword)': modes must match",
                at: location
            )
        }
    }

    /// Where a rule is evaluated, and which fetch sources exist there.
    private struct RuleStage {
        var keyword: String
        var allowed: Set<FetchSourceKey>
        /// True where HAProxy would parse HTTP out of a raw TCP stream (sluice refuses it).
        var inspectsContent: Bool
    }

    /// FetchSource as a hashable key.
    private enum FetchSourceKey: Hashable {
        case constant, connection, tls, content, httpRequest, httpResponse, httpMessage

        init(_ source: FetchSource) {
            switch source {
            case .constant: self = .constant
            case .connection: self = .connection
            case .tls: self = .tls
            case .content: self = .content
            case .httpRequest: self = .httpRequest
            case .httpResponse: self = .httpResponse
            case .httpMessage: self = .httpMessage
            }
        }
    }

    private static let requestSide: Set<FetchSourceKey> = [
        .constant, .connection, .tls, .content, .httpRequest, .httpMessage,
    ]

    /// Every rule condition of a proxy against where it runs: in a mode tcp proxy, an HTTP fetch in `use_backend` or
    /// `tcp-request content` is an alert (HAProxy would parse HTTP out of the stream; sluice does not); elsewhere a
    /// term made only of fetches that do not exist at that point gets HAProxy's "will never match" warning.
    private static func checkConditions(_ proxy: ProxyDraft, context: inout ParseContext) {
        let config = proxy.config
        let content = RuleStage(keyword: "tcp-request content", allowed: requestSide, inspectsContent: true)
        var rules: [(RuleStage, Condition?, SourceLocation)] = []
        for rule in config.tcpRequestRules {
            let stage =
                rule.stage == .connection
                ? RuleStage(
                    keyword: "tcp-request connection",
                    allowed: [.constant, .connection],
                    inspectsContent: false
                )
                : content
            rules.append((stage, rule.condition, rule.location))
        }
        let useBackend = RuleStage(keyword: "use_backend", allowed: requestSide, inspectsContent: true)
        rules += config.backendSwitchRules.map { (useBackend, $0.condition, $0.location) }
        let request = RuleStage(keyword: "http-request", allowed: requestSide, inspectsContent: false)
        rules += config.httpRequestRules.map { (request, $0.condition, $0.location) }
        let response = RuleStage(
            keyword: "http-response",
            allowed: [.constant, .connection, .tls, .httpResponse, .httpMessage],
            inspectsContent: false
        )
        rules += config.httpResponseRules.map { (response, $0.condition, $0.location) }
        if let stats = config.stats, let condition = stats.adminCondition {
            rules.append(
                (
                    RuleStage(keyword: "stats admin", allowed: requestSide, inspectsContent: false), condition,
                    stats.location
                )
            )
        }
        for (stage, condition, location) in rules {
            guard let condition else { continue }
            var reported = false
            var reportedL6 = false
            for term in condition.alternatives.joined() where config.acls.indices.contains(term.aclIndex) {
                let acl = config.acls[term.aclIndex]
                let what = acl.name.map { "ACL '\($0)'" } ?? "anonymous ACL"
                if config.mode == .tcp && stage.inspectsContent,
                    let http = acl.tests.first(where: { $0.fetch.source?.needsHTTP ?? false })
                {
                    if !reported {
                        context.sink.alert(
                            "\(proxy.displayName) is in mode tcp: '\(stage.keyword)' uses fetch"
                                + " '\(http.fetch.name)' (\(what)), which needs 'mode http' (sluice does not parse"
                                + " HTTP in mode tcp)",
                            at: location
                        )
                        reported = true
                    }
                    continue
                }
                // HAProxy: raw-buffer fetches never match in mode http (the buffer holds parsed HTTP); wait_end is
                // time-based and still works.
                if config.mode == .http && !reportedL6,
                    let raw = acl.tests.first(where: { $0.fetch.source == .content && $0.fetch.name != "wait_end" })
                {
                    context.sink.warning(
                        "\(proxy.displayName): L6 sample fetches ignored on HTTP proxies (fetch '\(raw.fetch.name)'"
                            + " in '\(stage.keyword)')",
                        at: location
                    )
                    reportedL6 = true
                }
                let unusable = acl.tests.filter { test in
                    guard let source = test.fetch.source else { return false }
                    return !stage.allowed.contains(FetchSourceKey(source))
                }
                if !acl.tests.isEmpty && unusable.count == acl.tests.count {
                    context.sink.warning(
                        "\(what) will never match in '\(stage.keyword)': fetch '\(unusable[0].fetch.name)' is not"
                            + " available there",
                        at: location
                    )
                }
            }
        }
    }

    /// Server TLS settings that need the whole file: `verify required` (explicit or from `ssl-server-verify`)
    /// without a CA file, as HAProxy refuses it; HTTP/2 offered to a server of a mode http backend.
    private static func checkServers(_ proxy: ProxyDraft, context: inout ParseContext) {
        for server in proxy.config.servers {
            let options = server.options
            let subject = "'server \(proxy.config.name)/\(server.name)'"
            if (options.usesTLS || options.check.usesTLS) && options.tls.verify == .required
                && options.tls.caFile == nil
            {
                context.sink.alert(
                    "\(subject) : verify is enabled but no CA file specified; set 'ca-file', or 'verify none' on the"
                        + " 'server' line, or 'ssl-server-verify none' in the global section",
                    at: server.location
                )
            }
            if proxy.config.mode == .http && options.usesTLS && options.tls.alpn.contains("h2") {
                context.sink.alert(
                    "\(subject) : 'alpn h2' is not supported by sluice in mode http"
                        + " (sluice speaks HTTP/1.1 to servers)",
                    at: server.location
                )
            }
        }
    }

    /// HAProxy 2.6's "missing timeouts" warning: client for a frontend, connect and server for a backend.
    private static func checkTimeouts(_ proxy: ProxyDraft, context: inout ParseContext) {
        let timeouts = proxy.config.timeouts
        var missing: [String] = []
        if proxy.config.capabilities.contains(.frontend) && timeouts.client == nil { missing.append("client") }
        if proxy.config.capabilities.contains(.backend) {
            if timeouts.connect == nil { missing.append("connect") }
            if timeouts.server == nil { missing.append("server") }
        }
        guard !missing.isEmpty else { return }
        let names = missing.map { "'timeout \($0)'" }
        let list = names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " and " + names.last!
        context.sink.warning(
            "missing timeouts for \(proxy.displayName): please set \(list)",
            at: proxy.config.location
        )
    }
}
