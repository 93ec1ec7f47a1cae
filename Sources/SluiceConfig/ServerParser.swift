// SPDX-License-Identifier: Apache-2.0
// ServerParser: `server <name> <addr>:<port> [options]` and `default-server [options]`. Options sluice supports:
// `weight N` (0..256), `maxconn N`, `disabled`/`enabled`, `backup`/`no-backup`. The others HAProxy knows (check,
// inter, ssl, send-proxy, ...) are each refused with one alert; host names go through the environment's resolver.

/// Parser for `server` and `default-server` lines.
enum ServerParser {
    /// Supported options: name -> number of arguments.
    static let supportedOptions: [String: Int] = [
        "weight": 1, "maxconn": 1, "disabled": 0, "enabled": 0, "backup": 0, "no-backup": 0,
    ]

    /// Applies the options in `line.words[from...]` to `options`. `subject` prefixes messages ("'server b/s'").
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
                    context.alert("\(subject) : '\(option)' expects an integer argument", line)
                    return false
                }
                switch option {
                case "weight":
                    guard let weight = Units.integer(words[index + 1]), (0...256).contains(weight) else {
                        context.alert(
                            "\(subject) : 'weight' expects an integer from 0 to 256, got '\(words[index + 1])'",
                            line
                        )
                        return false
                    }
                    options.weight = weight
                case "maxconn":
                    guard let maxconn = Units.integer(words[index + 1]), maxconn >= 0 else {
                        context.alert(
                            "\(subject) : 'maxconn' expects a non-negative integer, got '\(words[index + 1])'",
                            line
                        )
                        return false
                    }
                    // HAProxy: 0 means no limit.
                    options.maxconn = maxconn == 0 ? nil : maxconn
                case "disabled": options.isDisabled = true
                case "enabled": options.isDisabled = false
                case "backup": options.isBackup = true
                default: options.isBackup = false
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
        guard parseOptions(line, from: 3, into: &options, subject: subject, context: &context) else { return nil }
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
