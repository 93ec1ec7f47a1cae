// SPDX-License-Identifier: Apache-2.0
// BindParser: `bind <addr>[,<addr>...] [options]` into a BindConfig. Addresses: IPv4, IPv6 (`[::1]:p`, `:::p`,
// `ipv6@`), `*:p`/`:p` (0.0.0.0), port ranges `a:1000-1002`, `unix@/path` (or `/path`), `fd@N`. Options: `name`,
// `backlog`, `accept-proxy`, `v4v6`/`v6only`, and TLS (`ssl`, `crt`, `alpn`, versions, ciphers, `ca-file`,
// `verify`, ...); the others HAProxy knows are each refused with one alert.

/// Parser for `bind` lines.
enum BindParser {
    /// Supported options: name -> number of arguments.
    static let supportedOptions: [String: Int] = [
        "name": 1, "backlog": 1, "accept-proxy": 0, "v4v6": 0, "v6only": 0, "ssl": 0, "crt": 1, "alpn": 1,
        "ssl-min-ver": 1, "ssl-max-ver": 1, "no-sslv3": 0, "no-tlsv10": 0, "no-tlsv11": 0, "no-tlsv12": 0,
        "no-tlsv13": 0, "force-tlsv12": 0, "force-tlsv13": 0, "ciphers": 1, "ciphersuites": 1, "curves": 1,
        "ca-file": 1, "verify": 1, "no-tls-tickets": 0, "prefer-client-ciphers": 0,
    ]

    /// TLS settings of one bind line as written, before the global defaults apply.
    private struct WrittenTLS {
        var isEnabled = false
        var certificates: [CertificateSource] = []
        var alpn: [String]?
        var versions = TLSVersionOptions()
        var ciphers: String?
        var cipherSuites: String?
        var curves: String?
        var caFile: String?
        var verify: ClientCertificateVerify?
        var disablesTickets = false
        var prefersClientCiphers = false
        /// TLS options seen (for the warning when `ssl` is missing).
        var optionsSeen: [String] = []
    }

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
        let subject = "'bind \(words[1])'"
        var bind = BindConfig(addresses: addresses, location: line.location)
        var tls = WrittenTLS()
        var failed = false
        var index = 2
        while index < words.count {
            let option = words[index]
            if let arity = supportedOptions[option] {
                guard index + arity < words.count else {
                    context.alert("\(subject) : '\(option)' expects an argument", line)
                    return nil
                }
                let value = arity > 0 ? words[index + 1] : ""
                if option != "name" && option != "backlog" && option != "accept-proxy" && option != "v4v6"
                    && option != "v6only" && option != "ssl"
                {
                    tls.optionsSeen.append(option)
                }
                switch option {
                case "name":
                    bind.name = value
                case "backlog":
                    guard let backlog = Units.integer(value), backlog >= 1 else {
                        context.alert("\(subject) : 'backlog' expects a positive integer, got '\(value)'", line)
                        return nil
                    }
                    bind.backlog = backlog
                case "accept-proxy": bind.acceptProxy = true
                case "v4v6": bind.ipv6Only = false
                case "v6only": bind.ipv6Only = true
                case "ssl": tls.isEnabled = true
                case "crt":
                    let path = TLSOptions.path(value, base: context.globalTLS.crtBase)
                    if let kind = context.checkFile(path, allowsDirectory: true, what: "\(subject) : 'crt'", line) {
                        tls.certificates.append(CertificateSource(path: path, isDirectory: kind == .directory))
                    } else {
                        failed = true
                    }
                case "ca-file":
                    let path = TLSOptions.path(value, base: context.globalTLS.caBase)
                    if context.checkFile(path, what: "\(subject) : 'ca-file'", line) != nil {
                        tls.caFile = path
                    } else {
                        failed = true
                    }
                case "alpn":
                    guard let list = TLSOptions.alpnList(value) else {
                        context.alert(
                            "\(subject) : 'alpn' expects a comma-separated list of protocols, got '\(value)'",
                            line
                        )
                        return nil
                    }
                    tls.alpn = list
                case "verify":
                    guard let verify = ClientCertificateVerify(rawValue: value) else {
                        context.alert(
                            "\(subject) : 'verify' expects 'none', 'optional' or 'required', got '\(value)'",
                            line
                        )
                        return nil
                    }
                    tls.verify = verify
                case "ciphers": tls.ciphers = value
                case "ciphersuites": tls.cipherSuites = value
                case "curves": tls.curves = value
                case "no-tls-tickets": tls.disablesTickets = true
                case "prefer-client-ciphers": tls.prefersClientCiphers = true
                default:
                    guard
                        TLSOptions.applyVersionOption(
                            words,
                            at: index,
                            to: &tls.versions,
                            subject: subject,
                            line,
                            context: &context
                        ) != nil
                    else { return nil }
                }
                index += 1 + arity
            } else if let arity = HAProxyKeywords.bindOptions[option] {
                context.alert("bind option '\(option)' is not supported by sluice", line)
                failed = true
                index += 1 + arity
            } else {
                let candidates = supportedOptions.keys.sorted() + HAProxyKeywords.bindOptions.keys.sorted()
                context.alert(
                    "\(subject) : unknown option '\(option)'"
                        + KeywordSuggestion.suffix(for: option, among: candidates),
                    line
                )
                return nil
            }
        }
        guard !failed else { return nil }
        if tls.isEnabled {
            guard let resolved = resolveTLS(tls, subject: subject, line, context: &context) else { return nil }
            bind.tls = resolved
        } else if !tls.optionsSeen.isEmpty {
            let names = tls.optionsSeen.map { "'\($0)'" }.joined(separator: ", ")
            context.warning("\(subject) : TLS options (\(names)) are ignored without 'ssl'", line)
        }
        return bind
    }

    /// Applies the global `ssl-default-bind-*` defaults to a `bind ... ssl` line and checks what HAProxy checks
    /// after parsing: a certificate, a CA file when clients are verified, at least one protocol version.
    private static func resolveTLS(
        _ written: WrittenTLS,
        subject: String,
        _ line: ConfigLine,
        context: inout ParseContext
    ) -> BindTLS? {
        let defaults = context.globalTLS.bindDefaults
        var ok = true
        if written.certificates.isEmpty {
            context.alert("\(subject) : no SSL certificate specified (use 'crt')", line)
            ok = false
        }
        let verify = written.verify ?? .none
        if verify != .none && written.caFile == nil {
            context.alert("\(subject) : 'verify \(verify.rawValue)' needs a 'ca-file'", line)
            ok = false
        }
        guard let (low, high) = written.versions.over(defaults.versionOptions).range else {
            context.alert("\(subject) : all SSL/TLS versions are disabled", line)
            return nil
        }
        guard ok else { return nil }
        var tls = BindTLS(certificates: written.certificates)
        tls.alpn = written.alpn ?? []
        tls.minVersion = low
        tls.maxVersion = high
        tls.ciphers = written.ciphers ?? defaults.ciphers
        tls.cipherSuites = written.cipherSuites ?? defaults.cipherSuites
        tls.curves = written.curves ?? defaults.curves
        tls.caFile = written.caFile
        tls.verify = verify
        tls.usesTickets = !(written.disablesTickets || defaults.disablesTickets)
        tls.prefersClientCiphers = written.prefersClientCiphers || defaults.prefersClientCiphers
        return tls
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
