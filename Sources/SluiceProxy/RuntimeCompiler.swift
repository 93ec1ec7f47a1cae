// SPDX-License-Identifier: Apache-2.0
// RuntimeCompiler: turns the parts of a proxy's configuration that run per request into their runtime forms:
// ACL tests, http-request/http-response rules and replies, error responses (errorfile), X-Forwarded-For, and the
// TLS contexts of bind lines and servers (certificates are read here, at load or reload time only). Every
// problem becomes a ConfigError with file:line; nothing stops at the first.
import SluiceConfig
import SluiceCore
import SluiceTLS

/// Compiles proxy parts, collecting errors. Build-time only.
struct RuntimeCompiler {
    let global: GlobalSettings
    var errors: [ConfigError] = []
    /// Server-side TLS contexts shared by servers with identical options.
    private var clientContexts: [(TLSContextOptions, TLSContext)] = []

    init(global: GlobalSettings) {
        self.global = global
    }

    // MARK: ACLs

    mutating func acls(of p: ProxyConfig) -> [[CompiledTest]] {
        p.acls.map { acl in
            acl.tests.compactMap { t in
                switch CompiledTest.compile(t) {
                case .success(let c): return c
                case .failure(let e):
                    errors.append(e)
                    return nil
                }
            }
        }
    }

    // MARK: HTTP

    mutating func errorResponses(of p: ProxyConfig) -> ErrorResponses {
        var files: [Int: [UInt8]] = [:]
        for f in p.errorFiles { files[f.status] = f.response }
        return ErrorResponses(errorFiles: files)
    }

    mutating func rules(of p: ProxyConfig, acls: [[CompiledTest]], errors responses: ErrorResponses) -> HTTPRules {
        var request: [HTTPRules.Rule<HTTPRules.RequestAction>] = []
        for r in p.httpRequestRules {
            guard let action = requestAction(r.action, location: r.location, responses: responses) else { continue }
            let condition = r.condition.map(CompiledCondition.init)
            let reads = condition?.readsHTTPMessage(acls) == true || Self.readsEditedMessage(action)
            request.append(.init(action: action, condition: condition, readsEditedMessage: reads))
        }
        var response: [HTTPRules.Rule<HTTPRules.ResponseAction>] = []
        for r in p.httpResponseRules {
            let action: HTTPRules.ResponseAction
            switch r.action {
            case .allow: action = .allow
            case .deny: action = .deny
            case .header(let h):
                guard let e = headerEdit(h, location: r.location) else { continue }
                action = .edit(e)
            }
            let condition = r.condition.map(CompiledCondition.init)
            var reads = condition?.readsHTTPMessage(acls) == true
            if case .edit(let e) = action, Self.readsEditedMessage(e) { reads = true }
            response.append(.init(action: action, condition: condition, readsEditedMessage: reads))
        }
        return HTTPRules(acls: acls, request: request, response: response)
    }

    /// True when the action itself needs the earlier edits applied: it fetches from the message, or it rewrites
    /// the target or a header value that an earlier edit may have changed (a batch of edits only sees the
    /// original lines). Constant set/add/del-header edits batch correctly and need nothing.
    static func readsEditedMessage(_ action: HTTPRules.RequestAction) -> Bool {
        switch action {
        case .allow, .respond, .service: return false
        case .redirect, .setPath, .setQuery, .setURI: return true
        case .dynamicReply(_, _, let body): return body.readsHTTPMessage
        case .edit(let e): return readsEditedMessage(e)
        }
    }

    static func readsEditedMessage(_ edit: HeaderEdit) -> Bool {
        switch edit {
        case .set(_, let value), .add(_, let value): return value.readsHTTPMessage
        case .delete: return false
        case .replaceHeader, .replaceValue: return true
        }
    }

    private mutating func requestAction(
        _ a: HTTPRequestRule.Action,
        location: SourceLocation,
        responses: ErrorResponses
    ) -> HTTPRules.RequestAction? {
        switch a {
        case .allow:
            return .allow
        case .deny(let reply):
            return replyAction(reply, location: location, responses: responses, isDeny: true)
        case .reply(let reply):
            return replyAction(reply, location: location, responses: responses, isDeny: false)
        case .redirect(let r):
            guard let value = logFormat(r.value, location: location) else { return nil }
            return .redirect(
                CompiledRedirect(kind: r.kind, value: value, code: r.code, dropsQuery: r.dropsQuery, appendsSlash: r.appendsSlash)
            )
        case .header(let h):
            return headerEdit(h, location: location).map { .edit($0) }
        case .setPath(let f):
            return logFormat(f, location: location).map { .setPath($0) }
        case .setQuery(let f):
            return logFormat(f, location: location).map { .setQuery($0) }
        case .setURI(let f):
            return logFormat(f, location: location).map { .setURI($0) }
        case .useService(let s):
            return .service(s)
        }
    }

    /// deny/return: a complete response prepared now when its body is constant.
    private mutating func replyAction(
        _ reply: HTTPReply,
        location: SourceLocation,
        responses: ErrorResponses,
        isDeny: Bool
    ) -> HTTPRules.RequestAction? {
        var extra = ""
        for h in reply.headers {
            guard h.value.isConstant else {
                errors.append(ConfigError(location, "dynamic 'hdr' values in a reply are not supported by sluice"))
                return nil
            }
            extra += "\(h.name): \(h.value.text)\r\n"
        }
        func rendered(_ body: [UInt8], close: Bool) -> [UInt8] {
            ErrorResponses.render(status: reply.status, reason: ErrorResponses.reason(for: reply.status),
                contentType: reply.contentType, body: body, extraHeaders: extra, close: close)
        }
        switch reply.body {
        case .defaultErrorFile:
            return .respond(responses.message(for: reply.status, keepAlive: true), close: responses.message(for: reply.status),
                isDeny: isDeny)
        case .errorFile(_, let response):
            return .respond(response, close: nil, isDeny: isDeny)
        case .empty:
            return .respond(rendered([], close: false), close: rendered([], close: true), isDeny: isDeny)
        case .payload(let body):
            return .respond(rendered(body, close: false), close: rendered(body, close: true), isDeny: isDeny)
        case .logFormat(let f):
            guard let body = logFormat(f, location: location) else { return nil }
            return .dynamicReply(status: reply.status, contentType: reply.contentType.map { Array($0.utf8) }, body: body)
        }
    }

    private mutating func headerEdit(_ h: HTTPHeaderAction, location: SourceLocation) -> HeaderEdit? {
        switch h {
        case .set(let name, let value):
            return logFormat(value, location: location).map { .set(name: Array(name.utf8), value: $0) }
        case .add(let name, let value):
            return logFormat(value, location: location).map { .add(name: Array(name.utf8), value: $0) }
        case .delete(let name, let method):
            var regex: CompiledRegex? = nil
            if method == .regex {
                regex = CompiledRegex(name, ignoreCase: true)
                if regex == nil {
                    errors.append(ConfigError(location, "invalid regex '\(name)'"))
                    return nil
                }
            }
            return .delete(name: Array(name.utf8), method: method, regex: regex)
        case .replaceHeader(let name, let pattern, let replacement), .replaceValue(let name, let pattern, let replacement):
            guard let regex = CompiledRegex(pattern, ignoreCase: false) else {
                errors.append(ConfigError(location, "invalid regex '\(pattern)'"))
                return nil
            }
            guard let r = logFormat(replacement, location: location) else { return nil }
            if case .replaceHeader = h { return .replaceHeader(name: Array(name.utf8), regex: regex, replacement: r) }
            return .replaceValue(name: Array(name.utf8), regex: regex, replacement: r)
        }
    }

    private mutating func logFormat(_ f: LogFormat, location: SourceLocation) -> CompiledLogFormat? {
        switch CompiledLogFormat.compile(f, location: location) {
        case .success(let c): return c
        case .failure(let e):
            errors.append(e)
            return nil
        }
    }

    // MARK: TLS

    /// The server-side context of a `bind ... ssl` line.
    mutating func bindContext(_ tls: BindTLS, mode: ProxyMode, location: SourceLocation) -> TLSContext? {
        var o = TLSContextOptions()
        o.certificateFiles = tls.certificates.map(\.path)
        o.caFile = tls.caFile
        switch tls.verify {
        case .none: o.verify = .none
        case .optional: o.verify = .optional
        case .required: o.verify = .required
        }
        // In mode http sluice speaks HTTP/1.1: offering h2 would make clients choose a protocol nobody here
        // understands (the config check warned about it). In mode tcp the bytes pass through: anything goes.
        o.alpn = mode == .http ? tls.alpn.filter { $0 != "h2" && $0 != "h2c" } : tls.alpn
        o.minVersion = Self.version(tls.minVersion)
        o.maxVersion = Self.version(tls.maxVersion)
        o.ciphers = tls.ciphers
        o.ciphersuites = tls.cipherSuites
        o.curves = tls.curves
        o.sessionTickets = tls.usesTickets
        o.sessionCacheSize = global.tls.sessionCacheSize
        do {
            return try TLSContext.server(o)
        } catch {
            errors.append(ConfigError(location, error.message))
            return nil
        }
    }

    /// Builds and drops the TLS context of every `bind ... ssl` and `server ... ssl` line not in `skipped`: the
    /// errors only reading a certificate, key or CA file finds. For a file whose parse already failed, so that
    /// one `-c` run reports these too (the lines with a parse error are skipped: one alert per mistake).
    static func tlsContentErrors(of config: Configuration, skipping skipped: Set<SourceLocation>) -> [ConfigError] {
        var compiler = RuntimeCompiler(global: config.global)
        for p in config.proxies {
            for bind in p.binds where !skipped.contains(bind.location) {
                if let tls = bind.tls { _ = compiler.bindContext(tls, mode: p.mode, location: bind.location) }
            }
            for s in p.servers where s.options.usesTLS && !skipped.contains(s.location) {
                _ = compiler.serverContext(s.options.tls, location: s.location)
            }
        }
        return compiler.errors
    }

    /// The client-side context for a `server ... ssl` line (shared between servers with the same options).
    mutating func serverContext(_ tls: ServerTLS, location: SourceLocation) -> TLSContext? {
        var o = TLSContextOptions()
        if let crt = tls.clientCertificate { o.certificateFiles = [crt] }
        o.caFile = tls.caFile
        o.verify = tls.verify == .required ? .required : .none
        o.alpn = tls.alpn
        o.minVersion = Self.version(tls.minVersion)
        o.maxVersion = Self.version(tls.maxVersion)
        o.ciphers = tls.ciphers
        o.ciphersuites = tls.cipherSuites
        o.sessionTickets = tls.usesTickets
        if let shared = clientContexts.first(where: { $0.0 == o }) { return shared.1 }
        do {
            let context = try TLSContext.client(o)
            clientContexts.append((o, context))
            return context
        } catch {
            errors.append(ConfigError(location, error.message))
            return nil
        }
    }

    /// A per-connection server `sni` (anything but `str(...)`). In mode http it is computed once per request for
    /// the backend (before the server is picked), so its servers must share one expression; in mode tcp it is
    /// computed when the connection to the server opens. A response fetch has nothing to read then, and an HTTP
    /// fetch has no request in mode tcp: both are errors rather than an SNI that is silently never sent.
    mutating func serverNameFetch(_ sni: SampleExpression, of b: Backend, server: String, location: SourceLocation)
        -> CompiledFetch?
    {
        let subject = "'server \(b.name)/\(server)' : 'sni \(sni.fetch.name)'"
        if let source = sni.fetch.source {
            if source == .httpResponse {
                errors.append(ConfigError(location, "\(subject): no response exists when the server connection opens"))
                return nil
            }
            if source.needsHTTP && b.config.mode != .http {
                errors.append(
                    ConfigError(location, "\(subject) needs 'mode http' (sluice does not parse HTTP in mode tcp)")
                )
                return nil
            }
        }
        if b.config.mode == .http, let shared = b.sniExpression, shared != sni {
            errors.append(
                ConfigError(
                    location, "\(subject): servers of a backend must share one per-request 'sni' expression in sluice"
                )
            )
            return nil
        }
        switch CompiledFetch.compile(sni.fetch, converters: sni.converters, location: location) {
        case .success(let fetch):
            b.sniExpression = sni
            b.sniFetch = fetch
            return fetch
        case .failure(let error):
            errors.append(error)
            return nil
        }
    }

    /// The TLS layer's version for the model's (SSLv3 is never offered: it maps to TLS 1.0).
    static func version(_ v: SluiceConfig.TLSVersion) -> SluiceTLS.TLSVersion {
        switch v {
        case .sslv3, .tls1_0: return .tls1_0
        case .tls1_1: return .tls1_1
        case .tls1_2: return .tls1_2
        case .tls1_3: return .tls1_3
        }
    }

    // MARK: features not there yet

    /// Keywords the parser accepts (they are HAProxy's and in PRODUCT.md) that this build cannot run yet: refused
    /// with a precise message rather than silently ignored.
    mutating func refuseUnimplemented(_ p: ProxyConfig) {
        if let stats = p.stats, stats.adminCondition != nil {
            errors.append(ConfigError(stats.location, "'stats admin' (changes from the stats page) is not supported by sluice yet"))
        }
        for s in p.servers {
            if s.options.proxyProtocol != nil {
                errors.append(ConfigError(s.location, "server option 'send-proxy' is not supported by sluice yet"))
            }
        }
        for b in p.binds where b.acceptProxy {
            errors.append(ConfigError(b.location, "bind option 'accept-proxy' is not supported by sluice yet"))
        }
    }
}
