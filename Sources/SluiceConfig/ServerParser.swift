// SPDX-License-Identifier: Apache-2.0
// ServerParser: `server <name> <addr>:<port> [options]` and `default-server [options]`. Options sluice supports:
// `weight`, `maxconn`, `disabled`/`enabled`, `backup`, TLS (`ssl`, `verify`, `ca-file`, `sni`, `alpn`, `crt`,
// versions, ciphers, `no-ssl-reuse`), health checks (`check`, `inter`, `fastinter`, `downinter`, `rise`, `fall`,
// `port`, `addr`, `check-ssl`, `observe`, `error-limit`, `on-error`) and `send-proxy[-v2]`. The others HAProxy knows
// are each refused with one alert; host names go through the environment's resolver.

/// Parser for `server` and `default-server` lines.
enum ServerParser {
    /// Supported options: name -> number of arguments.
    static let supportedOptions: [String: Int] = [
        "weight": 1, "maxconn": 1, "disabled": 0, "enabled": 0, "backup": 0, "no-backup": 0,
        // TLS
        "ssl": 0, "no-ssl": 0, "verify": 1, "ca-file": 1, "sni": 1, "alpn": 1, "crt": 1, "ciphers": 1,
        "ciphersuites": 1, "ssl-min-ver": 1, "ssl-max-ver": 1, "no-sslv3": 0, "no-tlsv10": 0, "no-tlsv11": 0,
        "no-tlsv12": 0, "no-tlsv13": 0, "force-tlsv12": 0, "force-tlsv13": 0, "no-ssl-reuse": 0, "ssl-reuse": 0,
        "no-tls-tickets": 0, "tls-tickets": 0,
        // health checks
        "check": 0, "no-check": 0, "check-ssl": 0, "no-check-ssl": 0, "inter": 1, "fastinter": 1, "downinter": 1,
        "rise": 1, "fall": 1, "port": 1, "addr": 1, "observe": 1, "error-limit": 1, "on-error": 1,
        // PROXY protocol
        "send-proxy": 0, "send-proxy-v2": 0, "no-send-proxy": 0, "no-send-proxy-v2": 0,
    ]

    /// Applies the options in `line.words[from...]` to `options`. `subject` prefixes messages ("'server b/s'").
    /// File options (`ca-file`, `crt`) are checked for readability now, with `ca-base`/`crt-base` applied.
    /// Alerts for each problem; returns false if there was any.
    static func parseOptions(
        _ line: ConfigLine,
        from start: Int,
        into options: inout ServerOptions,
        subject: String,
        context: inout ParseContext
    ) -> Bool {
        let words = line.words
        var ok = true
        var index = start
        while index < words.count {
            let option = words[index]
            if let arity = supportedOptions[option] {
                guard index + arity < words.count else {
                    context.alert("\(subject) : '\(option)' expects an argument", line)
                    return false
                }
                guard apply(option, words: words, at: index, to: &options, subject: subject, line, context: &context)
                else {
                    if option == "ca-file" || option == "crt" {
                        // A missing file does not hide the rest of the line.
                        ok = false
                        index += 1 + arity
                        continue
                    }
                    return false
                }
                index += 1 + arity
            } else if let arity = HAProxyKeywords.serverOptions[option] {
                context.alert("server option '\(option)' is not supported by sluice", line)
                ok = false
                index += 1 + arity
            } else {
                let candidates = supportedOptions.keys.sorted() + HAProxyKeywords.serverOptions.keys.sorted()
                context.alert(
                    "\(subject) : unknown option '\(option)'"
                        + KeywordSuggestion.suffix(for: option, among: candidates),
                    line
                )
                return false
            }
        }
        return ok
    }

    /// Applies one supported option (its arguments follow it in `words`); false after an alert.
    private static func apply(
        _ option: String,
        words: [String],
        at index: Int,
        to options: inout ServerOptions,
        subject: String,
        _ line: ConfigLine,
        context: inout ParseContext
    ) -> Bool {
        let value = index + 1 < words.count ? words[index + 1] : ""
        /// A time of at least 1 ms for `inter`, `fastinter`, `downinter`.
        func interval() -> Int? {
            guard let ms = context.milliseconds(value, keyword: option, line) else { return nil }
            guard ms > 0 else {
                context.alert("\(subject) : '\(option)' expects a time greater than 0", line)
                return nil
            }
            return ms
        }
        /// An integer from 1 for `rise`, `fall`, `error-limit`.
        func count() -> Int? {
            guard let number = Units.integer(value), number >= 1 else {
                context.alert("\(subject) : '\(option)' expects an integer of at least 1, got '\(value)'", line)
                return nil
            }
            return number
        }
        switch option {
        case "weight":
            guard let weight = Units.integer(value), (0...256).contains(weight) else {
                context.alert("\(subject) : 'weight' expects an integer from 0 to 256, got '\(value)'", line)
                return false
            }
            options.weight = weight
        case "maxconn":
            guard let maxconn = Units.integer(value), maxconn >= 0 else {
                context.alert("\(subject) : 'maxconn' expects a non-negative integer, got '\(value)'", line)
                return false
            }
            // HAProxy: 0 means no limit.
            options.maxconn = maxconn == 0 ? nil : maxconn
        case "disabled": options.isDisabled = true
        case "enabled": options.isDisabled = false
        case "backup": options.isBackup = true
        case "no-backup": options.isBackup = false
        case "ssl": options.usesTLS = true
        case "no-ssl": options.usesTLS = false
        case "verify":
            guard let verify = ServerCertificateVerify(rawValue: value) else {
                context.alert("\(subject) : 'verify' expects 'none' or 'required', got '\(value)'", line)
                return false
            }
            options.tls.verify = verify
            options.tls.isVerifySet = true
        case "ca-file":
            let path = TLSOptions.path(value, base: context.globalTLS.caBase)
            guard context.checkFile(path, what: "\(subject) : 'ca-file'", line) != nil else { return false }
            options.tls.caFile = path
        case "crt":
            let path = TLSOptions.path(value, base: context.globalTLS.crtBase)
            guard context.checkFile(path, what: "\(subject) : 'crt'", line) != nil else { return false }
            options.tls.clientCertificate = path
        case "sni":
            switch ACLParser.parseSample(value, acceptsACLKeywords: false) {
            case .success(let parsed): options.tls.sni = parsed.expression
            case .failure(let failure):
                context.alert("\(subject) : 'sni': \(failure.message)", line)
                return false
            }
        case "alpn":
            guard let list = TLSOptions.alpnList(value) else {
                context.alert("\(subject) : 'alpn' expects a comma-separated list of protocols, got '\(value)'", line)
                return false
            }
            options.tls.alpn = list
        case "ciphers": options.tls.ciphers = value
        case "ciphersuites": options.tls.cipherSuites = value
        case "no-ssl-reuse": options.tls.reusesSessions = false
        case "ssl-reuse": options.tls.reusesSessions = true
        case "no-tls-tickets": options.tls.usesTickets = false
        case "tls-tickets": options.tls.usesTickets = true
        case "check": options.check.isEnabled = true
        case "no-check": options.check.isEnabled = false
        case "check-ssl": options.check.usesTLS = true
        case "no-check-ssl": options.check.usesTLS = false
        case "inter":
            guard let ms = interval() else { return false }
            options.check.intervalMs = ms
        case "fastinter":
            guard let ms = interval() else { return false }
            options.check.fastIntervalMs = ms
        case "downinter":
            guard let ms = interval() else { return false }
            options.check.downIntervalMs = ms
        case "rise":
            guard let number = count() else { return false }
            options.check.rise = number
        case "fall":
            guard let number = count() else { return false }
            options.check.fall = number
        case "error-limit":
            guard let number = count() else { return false }
            options.check.errorLimit = number
        case "port":
            guard let port = AddressParser.port(value) else {
                context.alert("\(subject) : 'port' expects a port from 1 to 65535, got '\(value)'", line)
                return false
            }
            options.check.port = port
        case "addr":
            guard
                let address = AddressParser.resolve(
                    host: value,
                    port: 0,
                    family: .any,
                    allowAny: false,
                    environment: context.environment
                )
            else {
                context.alert("\(subject) : 'addr' expects an IP address or a host name, got '\(value)'", line)
                return false
            }
            options.check.address = address
        case "observe":
            switch value {
            case "layer4": options.check.observesLayer4 = true
            case "layer7":
                context.alert("\(subject) : 'observe layer7' is not supported by sluice", line)
                return false
            case "none": options.check.observesLayer4 = false
            default:
                context.alert("\(subject) : 'observe' expects 'layer4' or 'layer7', got '\(value)'", line)
                return false
            }
        case "on-error":
            guard let action = OnErrorAction(rawValue: value) else {
                context.alert(
                    "\(subject) : 'on-error' expects 'fastinter', 'fail-check', 'sudden-death' or 'mark-down',"
                        + " got '\(value)'",
                    line
                )
                return false
            }
            options.check.onError = action
        case "send-proxy": options.proxyProtocol = .v1
        case "send-proxy-v2": options.proxyProtocol = .v2
        case "no-send-proxy":
            if options.proxyProtocol == .v1 { options.proxyProtocol = nil }
        case "no-send-proxy-v2":
            if options.proxyProtocol == .v2 { options.proxyProtocol = nil }
        default:
            return TLSOptions.applyVersionOption(
                words,
                at: index,
                to: &options.tls.versionOptions,
                subject: subject,
                line,
                context: &context
            ) != nil
        }
        return true
    }

    /// Applies the global `ssl-default-server-*` settings to a server's TLS options (HAProxy does it while parsing
    /// the server line, from the global lines above it). Alerts when every protocol version is disabled.
    private static func resolveTLS(
        _ options: inout ServerOptions,
        subject: String,
        _ line: ConfigLine,
        context: inout ParseContext
    ) -> Bool {
        let defaults = context.globalTLS.serverDefaults
        guard let (low, high) = options.tls.versionOptions.over(defaults.versionOptions).range else {
            context.alert("\(subject) : all SSL/TLS versions are disabled", line)
            return false
        }
        options.tls.minVersion = low
        options.tls.maxVersion = high
        options.tls.ciphers = options.tls.ciphers ?? defaults.ciphers
        options.tls.cipherSuites = options.tls.cipherSuites ?? defaults.cipherSuites
        if defaults.disablesTickets { options.tls.usesTickets = false }
        return true
    }

    /// Parses a `server` line with the draft's `default-server` options as the starting point.
    static func parseServer(_ line: ConfigLine, draft: ProxyDraft, context: inout ParseContext) -> ServerConfig? {
        let words = line.words
        guard words.count >= 3 else {
            context.alert("'server' expects <name> and <addr>:<port> as arguments", line)
            return nil
        }
        let name = words[1]
        let subject = "'server \(draft.config.name)/\(name)'"
        if let bad = NameRules.invalidCharacter(in: name) {
            context.alert("character '\(bad)' is not permitted in server name '\(name)'", line)
            return nil
        }
        let addressText = words[2]
        let address: NetworkAddress
        switch parseAddress(addressText, environment: context.environment) {
        case .success(let value): address = value
        case .failure(let error):
            context.alert("\(subject) : \(error.message)", line)
            // Keep checking the options so one line reports all its problems.
            var scratch = draft.defaultServer
            _ = parseOptions(line, from: 3, into: &scratch, subject: subject, context: &context)
            return nil
        }
        var options = draft.defaultServer
        guard parseOptions(line, from: 3, into: &options, subject: subject, context: &context),
            resolveTLS(&options, subject: subject, line, context: &context)
        else { return nil }
        return ServerConfig(
            name: name,
            addressText: addressText,
            address: address,
            options: options,
            location: line.location
        )
    }

    /// `[ipv4@|ipv6@]host:port`, `[v6]:port` or `unix@/path` (`/path`). A port is required (sluice has no
    /// "same port as the client" servers); no ranges, no offsets.
    static func parseAddress(_ rawWord: String, environment: ConfigEnvironment) -> Result<NetworkAddress, AddressError>
    {
        let word = Tokenizer.expandAddressVariables(rawWord, variable: environment.variable)
        let prefix: AddressPrefix
        let rest: String
        switch AddressParser.splitPrefix(word) {
        case .success(let value): (prefix, rest) = value
        case .failure(let error): return .failure(error)
        }
        var family = AddressParser.Family.any
        switch prefix {
        case .unix:
            guard !rest.isEmpty else { return .failure(AddressError("missing socket path in '\(word)'")) }
            return .success(.unix(path: rest))
        case .fd, .udp, .udp4, .udp6:
            return .failure(AddressError("address '\(word)' cannot be used for a server"))
        case .unsupported(let name):
            return .failure(AddressError("address prefix '\(name)' is not supported by sluice"))
        case .ipv4: family = .ipv4
        case .ipv6: family = .ipv6
        case .none:
            if rest.hasPrefix("/") { return .success(.unix(path: rest)) }
        }
        let (host, portText) = AddressParser.splitHostPort(rest)
        guard let portText, !portText.isEmpty else {
            return .failure(AddressError("missing port in '\(word)' (sluice needs <addr>:<port>)"))
        }
        if portText.hasPrefix("+") || portText.hasPrefix("-") {
            return .failure(AddressError("port offsets ('\(portText)') are not supported by sluice"))
        }
        if portText.contains("-") {
            return .failure(AddressError("port range not permitted here in '\(word)'"))
        }
        guard let port = AddressParser.port(portText) else {
            return .failure(AddressError("invalid port '\(portText)'"))
        }
        guard !host.isEmpty else { return .failure(AddressError("missing address in '\(word)'")) }
        guard
            let address = AddressParser.resolve(
                host: host,
                port: port,
                family: family,
                allowAny: false,
                environment: environment
            )
        else {
            return .failure(AddressError("could not resolve address '\(host)'"))
        }
        return .success(address)
    }
}
