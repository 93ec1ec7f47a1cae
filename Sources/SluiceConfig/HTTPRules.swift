// SPDX-License-Identifier: Apache-2.0
// HTTPRules: the HTTP proxy keywords: `http-request` and `http-response` rules, the old `redirect` keyword (an
// http-request redirect rule, as in HAProxy 2.x), `errorfile` (read at load), `http-reuse`, and the
// `option forwardfor` arguments. Every action HAProxy knows and sluice does not is refused as
// `'http-request <action>' is not supported by sluice`.

/// Parsers for the HTTP rule keywords.
enum HTTPRules {
    /// Status codes HAProxy (and sluice) generate and `errorfile` may replace.
    static let errorFileStatuses: [Int] = [
        200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
    ]

    /// `http-request` actions sluice supports.
    static let requestActions: [String] = [
        "allow", "deny", "return", "redirect", "set-header", "add-header", "del-header", "replace-header",
        "replace-value", "set-path", "set-query", "set-uri", "use-service",
    ]

    /// `http-response` actions sluice supports.
    static let responseActions: [String] = [
        "allow", "deny", "set-header", "add-header", "del-header", "replace-header", "replace-value",
    ]

    /// Redirect codes HAProxy accepts.
    private static let redirectCodes: Set<Int> = [301, 302, 303, 307, 308]

    /// A rule line being parsed: the words and a cursor over them.
    private struct RuleWords {
        var line: ConfigLine
        /// `http-request deny`, for messages.
        var keyword: String
        var index: Int

        var words: [String] { line.words }
        /// True at the end of the arguments (end of line or `if`/`unless`).
        var atConditionOrEnd: Bool { index >= words.count || words[index] == "if" || words[index] == "unless" }
        /// The next word, consumed; nil at the end of the arguments.
        mutating func next() -> String? {
            guard !atConditionOrEnd else { return nil }
            index += 1
            return words[index - 1]
        }
    }

    // MARK: - http-request / http-response

    /// The action word of an `http-request`/`http-response` line when sluice runs it; nil after an alert (rules in
    /// a defaults section, a missing action, one HAProxy has and sluice does not, an unknown one).
    private static func supportedAction(
        _ line: ConfigLine,
        keyword: String,
        supported: [String],
        known: Set<String>,
        draft: ProxyDraft,
        context: inout ParseContext
    ) -> String? {
        if draft.kind == .defaults {
            context.alert("'\(keyword)' rules in a 'defaults' section are not supported by sluice", line)
            return nil
        }
        guard let (actionName, base) = actionName(line, keyword: keyword, context: &context) else { return nil }
        guard supported.contains(actionName) else {
            refuseAction(actionName, base: base, keyword: keyword, known: known, supported: supported, line, context: &context)
            return nil
        }
        return actionName
    }

    /// `http-request <action> [args] [if|unless <cond>]`.
    static func parseHTTPRequest(_ line: ConfigLine, draft: inout ProxyDraft, context: inout ParseContext) {
        let known = HAProxyKeywords.httpRequestActions
        guard
            let actionName = supportedAction(
                line, keyword: "http-request", supported: requestActions, known: known, draft: draft, context: &context)
        else { return }
        var rule = RuleWords(line: line, keyword: "http-request \(actionName)", index: 2)
        let action: HTTPRequestRule.Action?
        switch actionName {
        case "allow": action = .allow
        case "deny": action = parseReply(&rule, isDeny: true, defaultStatus: 403, context: &context).map { .deny($0) }
        case "return":
            action = parseReply(&rule, isDeny: false, defaultStatus: 200, context: &context).map { .reply($0) }
        case "redirect": action = parseRedirect(&rule, isLogFormat: true, context: &context).map { .redirect($0) }
        case "set-path", "set-query", "set-uri":
            guard let text = rule.next() else {
                context.alert("'\(rule.keyword)' expects a log-format string", line)
                return
            }
            guard let format = logFormat(text, rule.keyword, line, context: &context) else { return }
            action =
                actionName == "set-path"
                ? .setPath(format) : (actionName == "set-query" ? .setQuery(format) : .setURI(format))
        case "use-service":
            guard let service = rule.next() else {
                context.alert("'http-request use-service' expects a service name", line)
                return
            }
            if let known = HTTPService(rawValue: service) {
                action = .useService(known)
            } else if service.hasPrefix("lua.") {
                context.alert("'http-request use-service \(service)' is not supported by sluice", line)
                return
            } else {
                context.alert(
                    "unknown service '\(service)' for 'http-request use-service' (sluice has 'prometheus-exporter')",
                    line
                )
                return
            }
        default: action = parseHeaderAction(&rule, actionName, context: &context).map { .header($0) }
        }
        guard let action, let condition = ruleCondition(rule, draft: &draft, context: &context) else { return }
        draft.config.httpRequestRules.append(
            HTTPRequestRule(action: action, condition: condition.value, location: line.location)
        )
        draft.httpRuleKeywords.insert("http-request")
    }

    /// `http-response <action> [args] [if|unless <cond>]`.
    static func parseHTTPResponse(_ line: ConfigLine, draft: inout ProxyDraft, context: inout ParseContext) {
        let known = HAProxyKeywords.httpResponseActions
        guard
            let actionName = supportedAction(
                line, keyword: "http-response", supported: responseActions, known: known, draft: draft, context: &context)
        else { return }
        var rule = RuleWords(line: line, keyword: "http-response \(actionName)", index: 2)
        let action: HTTPResponseRule.Action?
        switch actionName {
        case "allow": action = .allow
        case "deny": action = parseReply(&rule, isDeny: true, defaultStatus: 502, context: &context).map { .deny($0) }
        default: action = parseHeaderAction(&rule, actionName, context: &context).map { .header($0) }
        }
        guard let action, let condition = ruleCondition(rule, draft: &draft, context: &context) else { return }
        draft.config.httpResponseRules.append(
            HTTPResponseRule(action: action, condition: condition.value, location: line.location)
        )
        draft.httpRuleKeywords.insert("http-response")
    }

    /// `redirect location|prefix|scheme <to> [code N] [options] [if|unless <cond>]`: an http-request redirect rule
    /// whose target is constant text (HAProxy reads no log-format here).
    static func parseRedirectKeyword(_ line: ConfigLine, draft: inout ProxyDraft, context: inout ParseContext) {
        var rule = RuleWords(line: line, keyword: "redirect", index: 1)
        guard let redirect = parseRedirect(&rule, isLogFormat: false, context: &context),
            let condition = ruleCondition(rule, draft: &draft, context: &context)
        else { return }
        draft.config.httpRequestRules.append(
            HTTPRequestRule(action: .redirect(redirect), condition: condition.value, location: line.location)
        )
        draft.httpRuleKeywords.insert("redirect")
    }

    /// The action name (`words[1]`, `set-var(x)` cut at the parenthesis for messages), or nil with an alert when
    /// it is missing.
    private static func actionName(
        _ line: ConfigLine,
        keyword: String,
        context: inout ParseContext
    ) -> (String, String)? {
        guard line.words.count >= 2 else {
            context.alert("'\(keyword)' expects an action", line)
            return nil
        }
        let name = line.words[1]
        let base = name.split(separator: "(", maxSplits: 1).first.map(String.init) ?? name
        return (name, base)
    }

    /// Alerts for an action sluice does not support: known to HAProxy (or a Lua action), or unknown.
    private static func refuseAction(
        _ name: String,
        base: String,
        keyword: String,
        known: Set<String>,
        supported: [String],
        _ line: ConfigLine,
        context: inout ParseContext
    ) {
        if known.contains(base) || base.hasPrefix("lua.") || base.hasPrefix("track-sc") || base.hasPrefix("sc-") {
            context.alert("'\(keyword) \(base)' is not supported by sluice", line)
        } else {
            context.alert(
                "unknown action '\(name)' for '\(keyword)'"
                    + KeywordSuggestion.suffix(for: base, among: supported + known.sorted()),
                line
            )
        }
    }

    /// The condition result of a rule: `value` nil when the rule has none.
    struct ParsedCondition {
        var value: Condition?
    }

    /// Parses what follows a rule's arguments: nothing, or `if|unless <cond>`. nil (with an alert, unless the
    /// condition names an ACL whose line already failed) when something else follows or the condition is invalid.
    static func condition(
        _ line: ConfigLine,
        from index: Int,
        keyword: String,
        draft: inout ProxyDraft,
        context: inout ParseContext
    ) -> ParsedCondition? {
        let words = line.words
        guard index < words.count else { return ParsedCondition(value: nil) }
        guard words[index] == "if" || words[index] == "unless" else {
            context.alert(
                "'\(keyword)' expects 'if' or 'unless' followed by a condition, got '\(words[index])'",
                line
            )
            return nil
        }
        switch ConditionParser.parse(
            words[index...],
            draft: &draft,
            location: line.location,
            environment: context.environment
        ) {
        case .success(let parsed): return ParsedCondition(value: parsed)
        case .failure(let failure):
            if let message = failure.message { context.alert(message, line) }
            return nil
        }
    }

    private static func ruleCondition(
        _ rule: RuleWords,
        draft: inout ProxyDraft,
        context: inout ParseContext
    ) -> ParsedCondition? {
        condition(rule.line, from: rule.index, keyword: rule.keyword, draft: &draft, context: &context)
    }

    /// Parses a log-format string for `keyword`; alerts and returns nil when it is invalid.
    static func logFormat(
        _ text: String,
        _ keyword: String,
        _ line: ConfigLine,
        context: inout ParseContext
    ) -> LogFormat? {
        switch LogFormatParser.parse(text) {
        case .success(let format): return format
        case .failure(let failure):
            context.alert("'\(keyword)': \(failure.message)", line)
            return nil
        }
    }

    // MARK: - header actions

    /// `set-header|add-header <name> <fmt>`, `del-header <name> [-m <method>]`,
    /// `replace-header|replace-value <name> <regex> <fmt>`.
    private static func parseHeaderAction(
        _ rule: inout RuleWords,
        _ actionName: String,
        context: inout ParseContext
    ) -> HTTPHeaderAction? {
        let line = rule.line
        let keyword = rule.keyword
        switch actionName {
        case "set-header", "add-header":
            // An empty value ("") counts as missing, as in HAProxy ("expects exactly 2 arguments").
            guard let name = rule.next(), let text = rule.next(), !text.isEmpty else {
                context.alert("'\(keyword)' expects <name> and <fmt>", line)
                return nil
            }
            guard let value = logFormat(text, keyword, line, context: &context) else { return nil }
            return actionName == "set-header" ? .set(name: name, value: value) : .add(name: name, value: value)
        case "del-header":
            guard let name = rule.next() else {
                context.alert("'\(keyword)' expects a header name", line)
                return nil
            }
            var method = MatchMethod.exact
            if !rule.atConditionOrEnd && rule.words[rule.index] == "-m" {
                rule.index += 1
                let allowed: [MatchMethod] = [.exact, .prefix, .suffix, .substring, .regex]
                guard let methodName = rule.next(), let parsed = MatchMethod(rawValue: methodName),
                    allowed.contains(parsed)
                else {
                    context.alert("'\(keyword)': '-m' expects str, beg, end, sub or reg", line)
                    return nil
                }
                method = parsed
            }
            if method == .regex, let reason = RegexCheck.error(in: name, ignoreCase: true) {
                context.alert("'\(keyword)': invalid regex '\(name)': \(reason)", line)
                return nil
            }
            return .delete(name: name, method: method)
        default:
            guard let name = rule.next(), let regex = rule.next(), let text = rule.next() else {
                context.alert("'\(keyword)' expects <name>, <regex> and <replace-fmt>", line)
                return nil
            }
            if let reason = RegexCheck.error(in: regex, ignoreCase: false) {
                context.alert("'\(keyword)': invalid regex '\(regex)': \(reason)", line)
                return nil
            }
            guard let replacement = logFormat(text, keyword, line, context: &context) else { return nil }
            return actionName == "replace-header"
                ? .replaceHeader(name: name, regex: regex, replacement: replacement)
                : .replaceValue(name: name, regex: regex, replacement: replacement)
        }
    }

    // MARK: - deny / return

    /// Arguments of `deny` and `return`: `[status|deny_status <code>] [content-type <type>] [default-errorfiles |
    /// errorfile <file> | file <file> | lf-file <file> | string <str> | lf-string <fmt>] [hdr <name> <fmt>]*`.
    private static func parseReply(
        _ rule: inout RuleWords,
        isDeny: Bool,
        defaultStatus: Int,
        context: inout ParseContext
    ) -> HTTPReply? {
        let line = rule.line
        let keyword = rule.keyword
        var status: Int?
        var contentType: String?
        var body: HTTPReply.Body?
        var bodyOption: String?
        var headers: [HTTPHeaderField] = []
        let options = [
            "status", "deny_status", "content-type", "default-errorfiles", "errorfile", "errorfiles", "file", "lf-file",
            "string", "lf-string", "hdr",
        ]
        while let option = rule.next() {
            switch option {
            case "status", "deny_status":
                guard isDeny || option == "status" else {
                    context.alert("'deny_status' is only valid with 'deny', not with '\(keyword)'", line)
                    return nil
                }
                guard let value = rule.next(), let code = Units.integer(value), (200...599).contains(code) else {
                    context.alert("'\(keyword)': '\(option)' expects a status code from 200 to 599", line)
                    return nil
                }
                status = code
            case "content-type":
                guard let value = rule.next() else {
                    context.alert("'\(keyword)': 'content-type' expects a type", line)
                    return nil
                }
                contentType = value
            case "hdr":
                guard let name = rule.next(), let text = rule.next() else {
                    context.alert("'\(keyword)': 'hdr' expects <name> and <fmt>", line)
                    return nil
                }
                guard let value = logFormat(text, keyword, line, context: &context) else { return nil }
                headers.append(HTTPHeaderField(name: name, value: value))
            case "errorfiles":
                context.alert("'\(keyword) errorfiles' is not supported by sluice (no 'http-errors' sections)", line)
                return nil
            case "default-errorfiles", "errorfile", "file", "lf-file", "string", "lf-string":
                if let previous = bodyOption {
                    context.alert("'\(keyword)': '\(option)' cannot be used with '\(previous)'", line)
                    return nil
                }
                bodyOption = option
                if option == "default-errorfiles" {
                    body = .defaultErrorFile
                    continue
                }
                guard let value = rule.next() else {
                    context.alert("'\(keyword)': '\(option)' expects an argument", line)
                    return nil
                }
                switch option {
                case "string": body = .payload(Array(value.utf8))
                case "lf-string":
                    guard let format = logFormat(value, keyword, line, context: &context) else { return nil }
                    body = .logFormat(format)
                default:
                    guard let bytes = context.readFile(value, what: "'\(keyword) \(option)'", line) else { return nil }
                    if option == "errorfile" {
                        guard isHTTPResponse(bytes) else {
                            context.alert(
                                "'\(keyword)': '\(value)' is not a complete HTTP response"
                                    + " (status line, headers, empty line)",
                                line
                            )
                            return nil
                        }
                        body = .errorFile(path: value, response: bytes)
                    } else if option == "file" {
                        body = .payload(bytes)
                    } else {
                        guard
                            let format = logFormat(
                                String(decoding: bytes, as: UTF8.self),
                                keyword,
                                line,
                                context: &context
                            )
                        else { return nil }
                        body = .logFormat(format)
                    }
                }
            default:
                context.alert(
                    "unknown argument '\(option)' for '\(keyword)'"
                        + KeywordSuggestion.suffix(for: option, among: options),
                    line
                )
                return nil
            }
        }
        // HAProxy's compatibility rule: `deny` with nothing but `deny_status` uses the error pages; any other
        // argument makes it an http reply like `return`, whose default is a response without payload.
        let isLegacyDeny = isDeny && (rule.index == 2 || (rule.index == 4 && rule.words[2] == "deny_status"))
        let finalBody = body ?? (isLegacyDeny ? .defaultErrorFile : .empty)
        let code = status ?? defaultStatus
        switch finalBody {
        case .defaultErrorFile, .errorFile:
            guard errorFileStatuses.contains(code) else {
                context.alert(
                    "'\(keyword)': status \(code) has no error page (an error file takes one of "
                        + errorFileStatuses.map(String.init).joined(separator: ", ") + ")",
                    line
                )
                return nil
            }
            if let type = contentType {
                context.warning("'\(keyword)': content-type '\(type)' ignored with an error file", line)
                contentType = nil
            }
            if !headers.isEmpty {
                context.warning("'\(keyword)': 'hdr' ignored with an error file", line)
                headers = []
            }
        case .payload(let bytes):
            if bytes.isEmpty, let type = contentType {
                context.warning("'\(keyword)': content-type '\(type)' ignored with an empty payload", line)
                contentType = nil
            } else if !bytes.isEmpty && contentType == nil {
                context.alert("'\(keyword)': a '\(bodyOption ?? "string")' payload needs 'content-type'", line)
                return nil
            }
        case .logFormat:
            if contentType == nil {
                context.alert("'\(keyword)': a '\(bodyOption ?? "lf-string")' payload needs 'content-type'", line)
                return nil
            }
        case .empty:
            if let type = contentType {
                context.warning("'\(keyword)': content-type '\(type)' ignored without a payload", line)
                contentType = nil
            }
        }
        return HTTPReply(status: code, contentType: contentType, body: finalBody, headers: headers)
    }

    /// True for bytes that start with an HTTP/1.x status line and contain the empty line ending the headers
    /// (HAProxy parses error files at load too). Empty is accepted: it means "close without answering".
    static func isHTTPResponse(_ bytes: [UInt8]) -> Bool {
        if bytes.isEmpty { return true }
        let prefix = Array("HTTP/1.".utf8)
        guard bytes.count >= 12, Array(bytes[0..<7]) == prefix, bytes[8] == 32,
            bytes[9...11].allSatisfy({ $0 >= 48 && $0 <= 57 })
        else { return false }
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 10 && bytes[index + 1] == 10 { return true }
            if bytes[index] == 10 && bytes[index + 1] == 13 && index + 2 < bytes.count && bytes[index + 2] == 10 {
                return true
            }
            index += 1
        }
        return false
    }

    // MARK: - redirect

    /// `location|prefix|scheme <value> [code <code>] [drop-query] [append-slash] [ignore-empty]
    /// [set-cookie NAME[=value]] [clear-cookie NAME[=]]`, in any order.
    private static func parseRedirect(
        _ rule: inout RuleWords,
        isLogFormat: Bool,
        context: inout ParseContext
    ) -> HTTPRedirect? {
        let line = rule.line
        let keyword = rule.keyword
        var redirect: HTTPRedirect?
        var code = 302
        var dropsQuery = false
        var appendsSlash = false
        var ignoresEmpty = false
        var setCookie: String?
        var clearCookie: String?
        let options = [
            "location", "prefix", "scheme", "code", "drop-query", "append-slash", "ignore-empty", "set-cookie",
            "clear-cookie",
        ]
        while let option = rule.next() {
            switch option {
            case "location", "prefix", "scheme":
                guard redirect == nil else {
                    context.alert("'\(keyword)': only one of 'location', 'prefix' or 'scheme' is allowed", line)
                    return nil
                }
                guard let text = rule.next() else {
                    context.alert("'\(keyword) \(option)' expects an argument", line)
                    return nil
                }
                let value: LogFormat
                if isLogFormat {
                    guard let format = logFormat(text, "\(keyword) \(option)", line, context: &context) else {
                        return nil
                    }
                    value = format
                } else {
                    value = LogFormat(literal: text)
                }
                redirect = HTTPRedirect(kind: HTTPRedirect.Kind(rawValue: option)!, value: value)
            case "code":
                guard let text = rule.next(), let number = Units.integer(text), redirectCodes.contains(number) else {
                    context.alert("'\(keyword)': 'code' expects 301, 302, 303, 307 or 308", line)
                    return nil
                }
                code = number
            case "drop-query": dropsQuery = true
            case "append-slash": appendsSlash = true
            case "ignore-empty": ignoresEmpty = true
            case "set-cookie", "clear-cookie":
                guard let cookie = rule.next() else {
                    context.alert("'\(keyword)': '\(option)' expects a cookie name", line)
                    return nil
                }
                if option == "set-cookie" { setCookie = cookie } else { clearCookie = cookie }
            default:
                context.alert(
                    "unknown argument '\(option)' for '\(keyword)'"
                        + KeywordSuggestion.suffix(for: option, among: options),
                    line
                )
                return nil
            }
        }
        guard var result = redirect else {
            context.alert("'\(keyword)' expects 'location', 'prefix' or 'scheme' followed by a value", line)
            return nil
        }
        result.code = code
        result.dropsQuery = dropsQuery
        result.appendsSlash = appendsSlash
        result.ignoresEmpty = ignoresEmpty
        result.setCookie = setCookie
        result.clearCookie = clearCookie
        return result
    }

    // MARK: - errorfile, http-reuse, forwardfor

    /// `errorfile <code> <file>`: reads the file now; the proxy's own line replaces an inherited one for that code.
    static func parseErrorFile(_ line: ConfigLine, draft: inout ProxyDraft, context: inout ParseContext) {
        let words = line.words
        guard words.count >= 3 else {
            context.alert("'errorfile' expects <code> and <file>", line)
            return
        }
        guard context.expectNoMoreThan(2, line) else { return }
        guard let code = Units.integer(words[1]), errorFileStatuses.contains(code) else {
            context.alert(
                "'errorfile': status code '\(words[1])' is not one sluice generates ("
                    + errorFileStatuses.map(String.init).joined(separator: ", ") + ")",
                line
            )
            return
        }
        let path = words[2]
        guard let bytes = context.readFile(path, what: "'errorfile \(code)'", line) else { return }
        guard isHTTPResponse(bytes) else {
            context.alert(
                "'errorfile \(code)': '\(path)' is not a complete HTTP response (status line, headers, empty line)",
                line
            )
            return
        }
        draft.config.errorFiles.removeAll { $0.status == code }
        draft.config.errorFiles.append(
            ErrorFile(status: code, path: path, response: bytes, location: line.location)
        )
    }

    /// `http-reuse never|safe|aggressive|always`.
    static func parseHTTPReuse(_ line: ConfigLine, draft: inout ProxyDraft, context: inout ParseContext) {
        guard let value = context.singleArgument(line, what: "'never', 'safe', 'aggressive' or 'always'") else {
            return
        }
        guard let reuse = HTTPReuse(rawValue: value) else {
            context.alert("'http-reuse' expects 'never', 'safe', 'aggressive' or 'always', got '\(value)'", line)
            return
        }
        draft.config.httpReuse = reuse
    }

    /// `option forwardfor [except <network>] [header <name>] [if-none]`.
    static func parseForwardFor(_ line: ConfigLine, context: inout ParseContext) -> ForwardFor? {
        let words = line.words
        var forwardFor = ForwardFor(location: line.location)
        var index = 2
        while index < words.count {
            switch words[index] {
            case "except":
                guard index + 1 < words.count,
                    let network = ACLParser.addressPattern(words[index + 1], environment: ConfigEnvironment())
                else {
                    context.alert("'option forwardfor except' expects <address>[/mask]", line)
                    return nil
                }
                forwardFor.exceptNetwork = network
                index += 2
            case "header":
                guard index + 1 < words.count, !words[index + 1].isEmpty else {
                    context.alert("'option forwardfor header' expects a header name", line)
                    return nil
                }
                forwardFor.headerName = words[index + 1]
                index += 2
            case "if-none":
                forwardFor.onlyIfNone = true
                index += 1
            default:
                context.alert(
                    "'option forwardfor' only supports 'except', 'header' and 'if-none', got '\(words[index])'",
                    line
                )
                return nil
            }
        }
        return forwardFor
    }
}
