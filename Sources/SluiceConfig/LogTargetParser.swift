// SPDX-License-Identifier: Apache-2.0
// LogTargetParser: one `log <target> [len N] [format F] <facility> [level [minlevel]]` line, in `global` or in a
// proxy, into a LogTarget (targets stdout, stderr, unix socket path, udp@host:port, host[:port] with port 514).
// `log global` and `no log` are the proxy section's business, not this file's.

/// Parser for the arguments of a `log` line.
enum LogTargetParser {
    /// syslog facility names in number order (HAProxy's log_facilities).
    static let facilities = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2", "ftp", "ntp",
        "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ]
    /// syslog level names in number order.
    static let levels = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
    /// Log formats HAProxy 2.6 knows; sluice supports the first three.
    private static let knownFormats: Set<String> = [
        "rfc3164", "rfc5424", "raw", "short", "priority", "timed", "iso",
        "local",
    ]

    /// Parses `line.words[1...]` (`line.words[0]` is `log`). Alerts and returns nil on any error.
    static func parse(_ line: ConfigLine, context: inout ParseContext) -> LogTarget? {
        let words = line.words
        guard words.count >= 3 else {
            context.alert(
                "'log' expects <target> [len <length>] [format <format>] <facility> [<level> [<minlevel>]]",
                line
            )
            return nil
        }
        guard let destination = parseDestination(words[1], line, context: &context) else { return nil }
        var maxLength = 1024
        var format = LogTarget.Format.rfc3164
        var index = 2
        while index < words.count {
            switch words[index] {
            case "len":
                guard index + 1 < words.count else {
                    context.alert("'log len' expects a length", line)
                    return nil
                }
                guard let length = context.integer(words[index + 1], in: 80...65535, keyword: "log len", line) else {
                    return nil
                }
                maxLength = length
                index += 2
                continue
            case "format":
                guard index + 1 < words.count else {
                    context.alert("'log format' expects rfc3164, rfc5424 or raw", line)
                    return nil
                }
                let name = words[index + 1]
                if let known = LogTarget.Format(rawValue: name) {
                    format = known
                } else if knownFormats.contains(name) {
                    context.alert("log format '\(name)' is not supported by sluice", line)
                    return nil
                } else {
                    context.alert("unknown log format '\(name)' (expected rfc3164, rfc5424 or raw)", line)
                    return nil
                }
                index += 2
                continue
            case "sample":
                context.alert("'log ... sample' is not supported by sluice", line)
                return nil
            default:
                break
            }
            break
        }
        guard index < words.count else {
            context.alert("'log' expects a facility after '\(words[index - 1])'", line)
            return nil
        }
        guard let facility = facilities.firstIndex(of: words[index]) else {
            context.alert(
                "unknown log facility '\(words[index])'"
                    + KeywordSuggestion.suffix(for: words[index], among: facilities),
                line
            )
            return nil
        }
        var target = LogTarget(destination: destination, facility: facility, location: line.location)
        target.maxLength = maxLength
        target.format = format
        index += 1
        if index < words.count {
            guard let level = levels.firstIndex(of: words[index]) else {
                context.alert(
                    "unknown log level '\(words[index])'" + KeywordSuggestion.suffix(for: words[index], among: levels),
                    line
                )
                return nil
            }
            target.maxLevel = level
            index += 1
        }
        if index < words.count {
            guard let level = levels.firstIndex(of: words[index]) else {
                context.alert(
                    "unknown optional minimum log level '\(words[index])'"
                        + KeywordSuggestion.suffix(for: words[index], among: levels),
                    line
                )
                return nil
            }
            target.minLevel = level
            index += 1
        }
        guard context.expectNoMoreThan(index - 1, line) else { return nil }
        return target
    }

    /// `stdout`, `stderr`, `fd@1`, `fd@2`, `/path`, `unix@/path`, `udp@host[:port]`, `ipv4@`, `ipv6@`,
    /// `host[:port]` (default port 514).
    private static func parseDestination(
        _ rawWord: String,
        _ line: ConfigLine,
        context: inout ParseContext
    ) -> LogTarget.Destination? {
        let word = Tokenizer.expandAddressVariables(rawWord, variable: context.environment.variable)
        if word == "stdout" { return .stdout }
        if word == "stderr" { return .stderr }
        if word.hasPrefix("/") { return .unixDatagram(path: word) }
        let split: (AddressPrefix, String)
        switch AddressParser.splitPrefix(word) {
        case .success(let value): split = value
        case .failure(let error):
            context.alert("log: \(error.message)", line)
            return nil
        }
        let family: AddressParser.Family
        switch split.0 {
        case .unix:
            guard !split.1.isEmpty else {
                context.alert("log: missing socket path in '\(word)'", line)
                return nil
            }
            return .unixDatagram(path: split.1)
        case .fd:
            if split.1 == "1" { return .stdout }
            if split.1 == "2" { return .stderr }
            context.alert("log target '\(word)' is not supported by sluice (only fd@1 and fd@2)", line)
            return nil
        case .unsupported(let prefix):
            context.alert("log target prefix '\(prefix)' is not supported by sluice", line)
            return nil
        case .ipv4, .udp4: family = .ipv4
        case .ipv6, .udp6: family = .ipv6
        case .none, .udp: family = .any
        }
        let (host, portText) = AddressParser.splitHostPort(split.1)
        var port: UInt16 = 514
        if let portText {
            guard let parsed = AddressParser.port(portText) else {
                context.alert("log: invalid port '\(portText)' in '\(word)'", line)
                return nil
            }
            port = parsed
        }
        guard !host.isEmpty,
            let address = AddressParser.resolve(
                host: host,
                port: port,
                family: family,
                allowAny: false,
                environment: context.environment
            )
        else {
            context.alert("log: could not resolve address '\(host)'", line)
            return nil
        }
        return .udp(address)
    }
}
