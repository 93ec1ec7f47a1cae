// SPDX-License-Identifier: Apache-2.0
// CheckParser: the proxy's HTTP health-check keywords: `option httpchk [<method>] [<uri>] [<version>]`,
// `http-check send ...` and `http-check expect [!] status|rstatus <pattern>`, and the second-pass step that
// combines them (the lines may come in any order or from the defaults section). Server-side check options
// (`check`, `inter`, ...) are ServerParser's.

/// Parsers for HTTP health-check keywords.
enum CheckParser {
    /// `option httpchk`, `option httpchk <uri>`, `option httpchk <method> <uri> [<version>]`.
    static func parseOptionHTTPCheck(_ line: ConfigLine, context: inout ParseContext) -> HTTPCheck? {
        let words = line.words
        guard context.expectNoMoreThan(4, line, keyword: "option httpchk") else { return nil }
        var check = HTTPCheck(location: line.location)
        switch words.count {
        case 2: break
        case 3: check.uri = words[2]
        default:
            check.method = words[2]
            check.uri = words[3]
            if words.count == 5 {
                guard let version = checkVersion(words[4], keyword: "option httpchk", line, context: &context) else {
                    return nil
                }
                check.version = version
            }
        }
        return check
    }

    /// `HTTP/1.0` or `HTTP/1.1`; headers smuggled after the version (`HTTP/1.1\r\nHost:\ x`, the pre-2.2 trick) are
    /// refused with a pointer to `http-check send hdr`.
    private static func checkVersion(
        _ version: String,
        keyword: String,
        _ line: ConfigLine,
        context: inout ParseContext
    ) -> String? {
        if version.utf8.contains(13) || version.utf8.contains(10) {
            context.alert(
                "headers after the version in '\(keyword)' are not supported by sluice; use 'http-check send hdr'",
                line
            )
            return nil
        }
        guard version == "HTTP/1.0" || version == "HTTP/1.1" else {
            context.alert("'\(keyword)' expects version 'HTTP/1.0' or 'HTTP/1.1', got '\(version)'", line)
            return nil
        }
        return version
    }

    /// `http-check send|expect ...`; every other `http-check` keyword is refused.
    static func parseHTTPCheck(_ line: ConfigLine, draft: inout ProxyDraft, context: inout ParseContext) {
        let words = line.words
        guard words.count >= 2 else {
            context.alert("'http-check' expects 'send' or 'expect'", line)
            return
        }
        switch words[1] {
        case "expect": parseExpect(line, draft: &draft, context: &context)
        case "send": parseSend(line, draft: &draft, context: &context)
        default:
            if HAProxyKeywords.httpCheckKeywords.contains(words[1]) {
                context.alert("'http-check \(words[1])' is not supported by sluice", line)
            } else {
                context.alert(
                    "unknown keyword '\(words[1])' for 'http-check'"
                        + KeywordSuggestion.suffix(
                            for: words[1],
                            among: ["expect", "send"] + HAProxyKeywords.httpCheckKeywords.sorted()
                        ),
                    line
                )
            }
        }
    }

    /// `http-check expect [!] status <code>[,<code>|<low>-<high>...]` or `[!] rstatus <regex>`.
    private static func parseExpect(_ line: ConfigLine, draft: inout ProxyDraft, context: inout ParseContext) {
        var words = Array(line.words.dropFirst(2))
        var isNegated = false
        if let first = words.first, first.hasPrefix("!") {
            isNegated = true
            if first == "!" { words.removeFirst() } else { words[0] = String(first.dropFirst()) }
        }
        guard let matcher = words.first else {
            context.alert("'http-check expect' expects [!] 'status' or 'rstatus' and a pattern", line)
            return
        }
        let knownMatchers: Set<String> = [
            "hdr", "fhdr", "string", "rstring", "min-recv", "comment", "ok-status", "error-status", "tout-status",
            "on-success", "on-error", "status-code",
        ]
        guard matcher == "status" || matcher == "rstatus" else {
            if knownMatchers.contains(matcher) {
                context.alert("'http-check expect \(matcher)' is not supported by sluice", line)
            } else {
                context.alert(
                    "'http-check expect' expects [!] 'status' or 'rstatus' and a pattern, got '\(matcher)'",
                    line
                )
            }
            return
        }
        guard words.count >= 2 else {
            context.alert("'http-check expect \(matcher)' expects a pattern", line)
            return
        }
        guard words.count == 2 else {
            context.alert("'http-check expect \(matcher)' cannot handle unexpected argument '\(words[2])'", line)
            return
        }
        let pattern = words[1]
        let match: HTTPCheckExpect.Match
        if matcher == "rstatus" {
            if let reason = RegexCheck.error(in: pattern, ignoreCase: false) {
                context.alert("'http-check expect rstatus': invalid regex '\(pattern)': \(reason)", line)
                return
            }
            match = .statusRegex(pattern)
        } else {
            var ranges: [ClosedRange<Int>] = []
            for item in pattern.split(separator: ",", omittingEmptySubsequences: false) {
                let bounds = item.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
                guard bounds.count <= 2, let low = Units.integer(bounds[0]), let high = Units.integer(bounds.last!),
                    (100...599).contains(low), (100...599).contains(high), low <= high
                else {
                    context.alert("'http-check expect status': invalid status code or range '\(item)'", line)
                    return
                }
                ranges.append(low...high)
            }
            match = .status(ranges)
        }
        // An inherited expect is replaced by the section's own; two in one section are refused.
        if draft.ownsHTTPCheckRules.expect, let previous = draft.httpCheckExpect {
            context.alert(
                "only one 'http-check expect' per section is supported by sluice (first one at \(previous.location))",
                line
            )
            return
        }
        draft.httpCheckExpect = HTTPCheckExpect(match: match, isNegated: isNegated, location: line.location)
        draft.ownsHTTPCheckRules.expect = true
        draft.httpCheckLocation = draft.httpCheckLocation ?? line.location
    }

    /// `http-check send [meth <method>] [uri <uri>] [ver <version>] [hdr <name> <value>]* [body <string>]`.
    private static func parseSend(_ line: ConfigLine, draft: inout ProxyDraft, context: inout ParseContext) {
        let words = line.words
        var send = HTTPCheckSend()
        var index = 2
        while index < words.count {
            let option = words[index]
            let arity = option == "hdr" ? 2 : 1
            guard index + arity < words.count else {
                context.alert(
                    "'http-check send': '\(option)' expects \(arity == 2 ? "<name> and <value>" : "an argument")",
                    line
                )
                return
            }
            let value = words[index + 1]
            switch option {
            case "meth": send.method = value
            case "uri": send.uri = value
            case "ver":
                guard let version = checkVersion(value, keyword: "http-check send ver", line, context: &context) else {
                    return
                }
                send.version = version
            case "hdr":
                let format: LogFormat
                switch LogFormatParser.parse(words[index + 2]) {
                case .success(let parsed) where parsed.isConstant: format = parsed
                case .success:
                    context.alert("'http-check send hdr': log-format values are not supported by sluice", line)
                    return
                case .failure(let failure):
                    context.alert("'http-check send hdr': \(failure.message)", line)
                    return
                }
                send.headers.append(HTTPHeaderField(name: value, value: format))
            case "body": send.body = value
            case "uri-lf", "body-lf", "comment":
                context.alert("'http-check send \(option)' is not supported by sluice", line)
                return
            default:
                context.alert(
                    "unknown argument '\(option)' for 'http-check send'"
                        + KeywordSuggestion.suffix(for: option, among: ["meth", "uri", "ver", "hdr", "body"]),
                    line
                )
                return
            }
            index += 1 + arity
        }
        if draft.ownsHTTPCheckRules.send {
            context.alert("only one 'http-check send' per section is supported by sluice", line)
            return
        }
        draft.httpCheckSend = send
        draft.ownsHTTPCheckRules.send = true
        draft.httpCheckLocation = draft.httpCheckLocation ?? line.location
    }

    /// Second pass: applies `http-check send|expect` to the proxy's `option httpchk`; without one, warns as
    /// HAProxy does and drops them.
    static func resolve(_ proxy: inout ProxyDraft, context: inout ParseContext) {
        guard proxy.httpCheckSend != nil || proxy.httpCheckExpect != nil else { return }
        guard var check = proxy.config.httpCheck else {
            if proxy.kind != .defaults && proxy.config.capabilities.contains(.backend) {
                context.sink.warning(
                    "\(proxy.displayName) uses http-check rules without 'option httpchk', so the rules are ignored",
                    at: proxy.httpCheckLocation ?? proxy.config.location
                )
            }
            return
        }
        if let send = proxy.httpCheckSend {
            check.method = send.method ?? check.method
            check.uri = send.uri ?? check.uri
            check.version = send.version ?? check.version
            check.headers = send.headers
            check.body = send.body
        }
        check.expect = proxy.httpCheckExpect
        proxy.config.httpCheck = check
    }
}
