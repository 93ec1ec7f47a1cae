// SPDX-License-Identifier: Apache-2.0
// Validation: the second pass, over every proxy that parsed: backend references (default_backend, use_backend),
// mode agreement between a frontend and the backends it uses, frontends without `bind`, missing client/server/
// connect timeouts and unused backends (warnings, as HAProxy 2.6 does). Reads drafts; changes nothing.

/// Checks that need the whole configuration.
enum Validation {
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
            // A backend without any server line only holds tables or is a placeholder: not worth a warning.
            if proxy.kind == .backend && proxy.hasServerLine && !anyDynamic && !used.contains(config.name) {
                context.sink.warning("backend '\(config.name)' is not used by any frontend", at: config.location)
            }
        }
    }

    /// A `frontend` needs a `bind` (alert); a `listen` without one only works as a backend (warning).
    private static func checkBinds(_ proxy: ProxyDraft, context: inout ParseContext) {
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
