// SPDX-License-Identifier: Apache-2.0
// BindParser: `bind <addr>[,<addr>...] [options]` into a BindConfig. Addresses: IPv4, IPv6 (`[::1]:p`, `:::p`,
// `ipv6@`), `*:p`/`:p` (0.0.0.0), port ranges `a:1000-1002`, `unix@/path` (or `/path`), `fd@N`. Options: `name`,
// `backlog`, `accept-proxy`; the others HAProxy knows (ssl, crt, alpn, ...) are each refused with one alert.

/// Parser for `bind` lines.
enum BindParser {
    /// Supported options: name -> number of arguments.
    static let supportedOptions: [String: Int] = ["name": 1, "backlog": 1, "accept-proxy": 0]

    /// Parses a `bind` line. Alerts for each problem found; returns nil if there was any.
    static func parse(_ line: ConfigLine, context: inout ParseContext) -> BindConfig? {
        let words = line.words
        guard words.count >= 2, !words[1].isEmpty else {
            context.alert("'bind' expects <addr>:<port> as an argument", line)
            return nil
        }
        var addresses: [BindAddress] = []
        let expanded = Tokenizer.expandAddressVariables(words[1], variable: context.environment.variable)
        for item in expanded.split(separator: ",", omittingEmptySubsequences: false) {
            switch parseAddress(String(item), environment: context.environment) {
            case .success(let parsed): addresses.append(contentsOf: parsed)
            case .failure(let error):
                context.alert("'bind \(words[1])' : \(error.message)", line)
                return nil
            }
        }
        var bind = BindConfig(addresses: addresses, location: line.location)
        var failed = false
        var index = 2
        while index < words.count {
            let option = words[index]
            if let arity = supportedOptions[option] {
                guard index + arity < words.count else {
                    context.alert("'bind \(words[1])' : '\(option)' expects an argument", line)
                    return nil
                }
                switch option {
                case "name":
                    bind.name = words[index + 1]
                case "backlog":
                    guard let backlog = Units.integer(words[index + 1]), backlog >= 1 else {
                        context.alert(
                            "'bind \(words[1])' : 'backlog' expects a positive integer, got '\(words[index + 1])'",
                            line
                        )
                        return nil
                    }
                    bind.backlog = backlog
                default:
                    bind.acceptProxy = true
                }
                index += 1 + arity
            } else if let arity = HAProxyKeywords.bindOptions[option] {
                context.alert("bind option '\(option)' is not supported by sluice", line)
                failed = true
                index += 1 + arity
            } else {
                let candidates = supportedOptions.keys.sorted() + HAProxyKeywords.bindOptions.keys.sorted()
                context.alert(
                    "'bind \(words[1])' : unknown option '\(option)'"
                        + KeywordSuggestion.suffix(for: option, among: candidates),
                    line
                )
                return nil
            }
        }
        return failed ? nil : bind
    }

    /// One comma-separated item of a bind address; a port range gives several addresses.
    static func parseAddress(_ item: String, environment: ConfigEnvironment) -> Result<[BindAddress], AddressError> {
        guard !item.isEmpty else { return .failure(AddressError("empty address in the address list")) }
        let prefix: AddressPrefix
        let rest: String
        switch AddressParser.splitPrefix(item) {
        case .success(let value): (prefix, rest) = value
        case .failure(let error): return .failure(error)
        }
        var family = AddressParser.Family.any
        switch prefix {
        case .fd:
            guard let fd = Units.integer(rest), fd >= 0 else {
                return .failure(AddressError("invalid file descriptor '\(rest)' in '\(item)'"))
            }
            return .success([.inheritedFD(Int32(fd))])
        case .unix:
            guard !rest.isEmpty else { return .failure(AddressError("missing socket path in '\(item)'")) }
            return .success([.unix(path: rest)])
        case .unsupported(let name):
            return .failure(AddressError("address prefix '\(name)' is not supported by sluice"))
        case .udp, .udp4, .udp6:
            return .failure(AddressError("'bind' needs a stream address, got '\(item)'"))
        case .ipv4: family = .ipv4
        case .ipv6: family = .ipv6
        case .none:
            if rest.hasPrefix("/") { return .success([.unix(path: rest)]) }
        }
        let (host, portText) = AddressParser.splitHostPort(rest)
        guard let portText, !portText.isEmpty else {
            return .failure(AddressError("missing port number in '\(item)'"))
        }
        var low: UInt16
        var high: UInt16
        let bounds = portText.split(separator: "-", omittingEmptySubsequences: false)
        if bounds.count == 2 {
            guard let first = AddressParser.port(String(bounds[0])), let last = AddressParser.port(String(bounds[1])),
                first <= last
            else {
                return .failure(AddressError("invalid port range '\(portText)'"))
            }
            (low, high) = (first, last)
        } else {
            guard let single = AddressParser.port(portText) else {
                return .failure(AddressError("invalid port '\(portText)'"))
            }
            (low, high) = (single, single)
        }
        // `:::80` names the IPv6 any address.
        if host == "::" { family = .ipv6 }
        guard
            let base = AddressParser.resolve(
                host: host == "::" ? "" : host,
                port: low,
                family: family,
                allowAny: true,
                environment: environment
            )
        else {
            return .failure(AddressError("could not resolve address '\(host)'"))
        }
        var result: [BindAddress] = []
        var port = low
        while true {
            switch base {
            case .ipv4(let a, _): result.append(.inet(.ipv4(address: a, port: port)))
            case .ipv6(let a, _): result.append(.inet(.ipv6(address: a, port: port)))
            case .unix(let path): result.append(.unix(path: path))
            }
            if port == high { break }
            port += 1
        }
        return .success(result)
    }
}
