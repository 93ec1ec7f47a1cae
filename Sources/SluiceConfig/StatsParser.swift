// SPDX-License-Identifier: Apache-2.0
// StatsParser: the `stats` keywords. In proxies: `enable`, `uri`, `refresh`, `auth`, `realm`, `admin`,
// `hide-version` (any of them enables the page, as in HAProxy). In `global`: `stats socket <addr> [mode <octal>]
// [level user|operator|admin] [expose-fd listeners]` and `stats timeout`. Other `stats` keywords are refused.

/// Parsers for `stats` lines.
enum StatsParser {
    /// `stats <keyword> ...` in a proxy or defaults section.
    static func parseProxyStats(_ line: ConfigLine, draft: inout ProxyDraft, context: inout ParseContext) {
        let words = line.words
        guard words.count >= 2 else {
            context.alert(
                "'stats' expects 'enable', 'uri', 'refresh', 'auth', 'realm', 'admin' or 'hide-version'",
                line
            )
            return
        }
        let keyword = "stats \(words[1])"
        var page = draft.config.stats ?? StatsPage(location: line.location)
        switch words[1] {
        case "enable":
            guard context.expectNoMoreThan(1, line, keyword: keyword) else { return }
        case "hide-version":
            guard context.expectNoMoreThan(1, line, keyword: keyword) else { return }
            page.hidesVersion = true
        case "uri":
            guard words.count >= 3, !words[2].isEmpty else {
                context.alert("'stats uri' expects a URI prefix", line)
                return
            }
            guard context.expectNoMoreThan(2, line, keyword: keyword) else { return }
            page.uriPrefix = words[2]
        case "refresh":
            guard words.count >= 3 else {
                context.alert("'stats refresh' expects a time value", line)
                return
            }
            guard context.expectNoMoreThan(2, line, keyword: keyword),
                let ms = context.milliseconds(words[2], keyword: keyword, line)
            else { return }
            page.refreshMs = ms == 0 ? nil : ms
        case "realm":
            guard words.count >= 3, !words[2].isEmpty else {
                context.alert("'stats realm' expects a realm name (escape spaces with '\\')", line)
                return
            }
            guard context.expectNoMoreThan(2, line, keyword: keyword) else { return }
            page.realm = words[2]
        case "auth":
            guard words.count >= 3, let colon = words[2].firstIndex(of: ":") else {
                context.alert("'stats auth' expects <user>:<password>", line)
                return
            }
            guard context.expectNoMoreThan(2, line, keyword: keyword) else { return }
            let user = String(words[2][..<colon])
            guard !user.isEmpty else {
                context.alert("'stats auth' expects <user>:<password>, got an empty user name", line)
                return
            }
            page.credentials.append(
                StatsCredential(user: user, password: String(words[2][words[2].index(after: colon)...]))
            )
        case "admin":
            if draft.kind == .defaults {
                context.alert("'stats admin' not allowed in 'defaults' section", line)
                return
            }
            guard words.count >= 3 else {
                context.alert("'stats admin' expects 'if' or 'unless' followed by a condition", line)
                return
            }
            guard let condition = HTTPRules.condition(line, from: 2, keyword: keyword, draft: &draft, context: &context)
            else { return }
            page.adminCondition = condition.value
        case "socket", "timeout", "maxconn":
            context.alert("'\(keyword)' is only allowed in the 'global' section", line)
            return
        default:
            let sub = words[1]
            if HAProxyKeywords.statsProxyKeywords.contains(sub) {
                context.alert("'\(keyword)' is not supported by sluice", line)
            } else {
                let supported = ["admin", "auth", "enable", "hide-version", "realm", "refresh", "uri"]
                context.alert(
                    "unknown keyword '\(sub)' for 'stats'"
                        + KeywordSuggestion.suffix(
                            for: sub,
                            among: supported + HAProxyKeywords.statsProxyKeywords.sorted()
                        ),
                    line
                )
            }
            return
        }
        draft.config.stats = page
    }

    /// `stats socket ...`, `stats timeout <time>` in `global`.
    static func parseGlobalStats(_ line: ConfigLine, draft: inout GlobalDraft, context: inout ParseContext) {
        let words = line.words
        guard words.count >= 2 else {
            context.alert("'stats' expects 'socket' or 'timeout'", line)
            return
        }
        switch words[1] {
        case "socket": parseSocket(line, draft: &draft, context: &context)
        case "timeout":
            guard words.count >= 3 else {
                context.alert("'stats timeout' expects a time value", line)
                return
            }
            guard context.expectNoMoreThan(2, line, keyword: "stats timeout"),
                let ms = context.milliseconds(words[2], keyword: "stats timeout", line)
            else { return }
            guard ms > 0 else {
                context.alert("'stats timeout' expects a positive time", line)
                return
            }
            draft.settings.statsTimeoutMs = ms
        default:
            let sub = words[1]
            if HAProxyKeywords.statsGlobalKeywords.contains(sub) {
                context.alert("'stats \(sub)' is not supported by sluice", line)
            } else if HAProxyKeywords.statsProxyKeywords.contains(sub) {
                context.alert("'stats \(sub)' is not allowed in 'global' section (it is a proxy keyword)", line)
            } else {
                context.alert(
                    "unknown keyword '\(sub)' for 'stats'"
                        + KeywordSuggestion.suffix(for: sub, among: ["socket", "timeout"]),
                    line
                )
            }
        }
    }

    /// `stats socket <path|fd@N|ipv4@addr:port|addr:port> [mode <octal>] [level <level>] [expose-fd listeners]`.
    private static func parseSocket(_ line: ConfigLine, draft: inout GlobalDraft, context: inout ParseContext) {
        let words = line.words
        guard words.count >= 3, !words[2].isEmpty else {
            context.alert("'stats socket' expects a socket path or <addr>:<port>", line)
            return
        }
        let expanded = Tokenizer.expandAddressVariables(words[2], variable: context.environment.variable)
        let address: BindAddress
        switch BindParser.parseAddress(expanded, environment: context.environment) {
        case .success(let list) where list.count == 1: address = list[0]
        case .success:
            context.alert("'stats socket \(words[2])' : a port range is not allowed here", line)
            return
        case .failure(let error):
            context.alert("'stats socket \(words[2])' : \(error.message)", line)
            return
        }
        var socket = StatsSocket(address: address, location: line.location)
        // An unsupported option is reported and skipped so the rest of the line is still checked.
        var failed = false
        var index = 3
        while index < words.count {
            let option = words[index]
            switch option {
            case "mode":
                guard index + 1 < words.count, let mode = octal(words[index + 1]), mode <= 0o7777 else {
                    context.alert("'stats socket' : 'mode' expects an octal permission such as 600", line)
                    return
                }
                socket.mode = mode
                index += 2
            case "level":
                guard index + 1 < words.count, let level = StatsLevel(rawValue: words[index + 1]) else {
                    context.alert("'stats socket' : 'level' expects 'user', 'operator' or 'admin'", line)
                    return
                }
                socket.level = level
                index += 2
            case "expose-fd":
                guard index + 1 < words.count, words[index + 1] == "listeners" else {
                    context.alert("'stats socket' : 'expose-fd' expects 'listeners'", line)
                    return
                }
                context.warning(
                    "'stats socket' : 'expose-fd listeners' ignored by sluice: reloads keep the listeners in-process",
                    line
                )
                index += 2
            default:
                if let arity = HAProxyKeywords.bindOptions[option] {
                    context.alert("stats socket option '\(option)' is not supported by sluice", line)
                    index += 1 + arity
                    failed = true
                } else {
                    context.alert(
                        "'stats socket' : unknown option '\(option)'"
                            + KeywordSuggestion.suffix(
                                for: option,
                                among: ["expose-fd", "level", "mode"] + HAProxyKeywords.bindOptions.keys.sorted()
                            ),
                        line
                    )
                    return
                }
            }
        }
        guard !failed else { return }
        draft.settings.statsSockets.append(socket)
    }

    /// An octal number such as `600` or `0660`.
    private static func octal(_ text: String) -> UInt32? {
        guard !text.isEmpty, text.utf8.count <= 6 else { return nil }
        var value: UInt32 = 0
        for c in text.utf8 {
            guard c >= 48 && c <= 55 else { return nil }
            value = value * 8 + UInt32(c - 48)
        }
        return value
    }
}
