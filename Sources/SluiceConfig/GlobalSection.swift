// SPDX-License-Identifier: Apache-2.0
// GlobalSection: the `global` keyword table, each keyword's parser, and the checks that need the whole section
// (tune.bufsize vs tune.maxrewrite). Keywords HAProxy knows and sluice does not are refused by the dispatcher
// (ConfigParser) from HAProxyKeywords; to support one, add a row here.

/// `global` values with the locations the end-of-load checks point at.
struct GlobalDraft {
    var settings = GlobalSettings()
    var bufferSizeLocation: SourceLocation?
    var maxRewriteLocation: SourceLocation?
    /// Keywords that may appear once, with where they were first set.
    var seen: [String: SourceLocation] = [:]
}

/// Parsers for the `global` section.
enum GlobalSection {
    /// A keyword's parser: reads `line` (its first word is the keyword) into the draft, alerting on errors.
    typealias Handler = @Sendable (ConfigLine, inout GlobalDraft, inout ParseContext) -> Void

    /// Supported `global` keywords.
    static let keywords: [String: Handler] = [
        "maxconn": { line, draft, context in
            guard let value = context.singleArgument(line, what: "an integer argument"),
                let number = context.integer(value, in: 1...Units.maxValue, keyword: "maxconn", line)
            else { return }
            draft.settings.maxconn = number
        },
        "log": { line, draft, context in
            if line.words.count >= 2 && line.words[1] == "global" {
                context.alert("'log global' is only allowed in proxy sections, not in 'global'", line)
                return
            }
            if let target = LogTargetParser.parse(line, context: &context) {
                draft.settings.logTargets.append(target)
            }
        },
        "pidfile": { line, draft, context in
            guard once("pidfile", line, &draft, &context),
                let path = context.singleArgument(line, what: "a file name")
            else { return }
            draft.settings.pidfile = path
        },
        "daemon": { line, draft, context in
            guard context.expectNoMoreThan(0, line) else { return }
            draft.settings.daemon = true
        },
        "user": { line, draft, context in
            guard once("user", line, &draft, &context), let name = context.singleArgument(line, what: "a user name")
            else { return }
            guard let uid = context.environment.userID(name) else {
                context.alert("cannot find user id for '\(name)'", line)
                return
            }
            draft.settings.user = name
            draft.settings.uid = uid
        },
        "group": { line, draft, context in
            guard once("group", line, &draft, &context), let name = context.singleArgument(line, what: "a group name")
            else { return }
            guard let gid = context.environment.groupID(name) else {
                context.alert("cannot find group id for '\(name)'", line)
                return
            }
            draft.settings.group = name
            draft.settings.gid = gid
        },
        "uid": { line, draft, context in
            guard once("uid", line, &draft, &context),
                let value = context.singleArgument(line, what: "an integer argument"),
                let id = context.integer(value, in: 0...Units.maxValue, keyword: "uid", line)
            else { return }
            draft.settings.uid = UInt32(id)
        },
        "gid": { line, draft, context in
            guard once("gid", line, &draft, &context),
                let value = context.singleArgument(line, what: "an integer argument"),
                let id = context.integer(value, in: 0...Units.maxValue, keyword: "gid", line)
            else { return }
            draft.settings.gid = UInt32(id)
        },
        "chroot": { line, draft, context in
            guard once("chroot", line, &draft, &context), let path = context.singleArgument(line, what: "a directory")
            else { return }
            draft.settings.chroot = path
        },
        "hard-stop-after": { line, draft, context in
            guard let value = context.singleArgument(line, what: "a time value"),
                let ms = context.milliseconds(value, keyword: "hard-stop-after", line)
            else { return }
            draft.settings.hardStopAfterMs = ms
        },
        "tune.bufsize": { line, draft, context in
            guard let value = context.singleArgument(line, what: "a size"),
                let size = context.bytes(value, keyword: "tune.bufsize", line)
            else { return }
            draft.settings.tune.bufferSize = size
            draft.bufferSizeLocation = line.location
        },
        "tune.maxrewrite": { line, draft, context in
            guard let value = context.singleArgument(line, what: "a size"),
                let size = context.bytes(value, keyword: "tune.maxrewrite", line)
            else { return }
            draft.settings.tune.maxRewrite = size
            draft.maxRewriteLocation = line.location
        },
        "tune.maxpollevents": { line, draft, context in
            guard let value = context.singleArgument(line, what: "an integer argument"),
                let number = context.integer(value, in: 1...1_000_000, keyword: "tune.maxpollevents", line)
            else { return }
            draft.settings.tune.maxPollEvents = number
        },
        "tune.maxaccept": { line, draft, context in
            guard let value = context.singleArgument(line, what: "an integer argument"),
                let number = context.integer(value, in: 1...Units.maxValue, keyword: "tune.maxaccept", line)
            else { return }
            draft.settings.tune.maxAccept = number
        },
        "nbthread": { line, draft, context in
            guard let value = context.singleArgument(line, what: "an integer argument"),
                let number = context.integer(value, in: 1...4096, keyword: "nbthread", line)
            else { return }
            if number > 1 {
                context.warning("'nbthread \(number)' ignored by sluice: sluice runs one thread", line)
            }
        },
        "stats": { line, draft, context in
            StatsParser.parseGlobalStats(line, draft: &draft, context: &context)
        },
        "ca-base": { line, draft, context in
            guard once("ca-base", line, &draft, &context),
                let path = context.singleArgument(line, what: "a directory")
            else { return }
            draft.settings.tls.caBase = path
        },
        "crt-base": { line, draft, context in
            guard once("crt-base", line, &draft, &context),
                let path = context.singleArgument(line, what: "a directory")
            else { return }
            draft.settings.tls.crtBase = path
        },
        "ssl-default-bind-ciphers": { line, draft, context in
            guard let value = context.singleArgument(line, what: "a cipher list") else { return }
            draft.settings.tls.bindDefaults.ciphers = value
        },
        "ssl-default-bind-ciphersuites": { line, draft, context in
            guard let value = context.singleArgument(line, what: "a TLS 1.3 cipher suite list") else { return }
            draft.settings.tls.bindDefaults.cipherSuites = value
        },
        "ssl-default-bind-curves": { line, draft, context in
            guard let value = context.singleArgument(line, what: "a curve list") else { return }
            draft.settings.tls.bindDefaults.curves = value
        },
        "ssl-default-bind-options": { line, draft, context in
            TLSOptions.parseDefaultOptions(
                line,
                isBindSide: true,
                into: &draft.settings.tls.bindDefaults,
                context: &context
            )
        },
        "ssl-default-server-ciphers": { line, draft, context in
            guard let value = context.singleArgument(line, what: "a cipher list") else { return }
            draft.settings.tls.serverDefaults.ciphers = value
        },
        "ssl-default-server-ciphersuites": { line, draft, context in
            guard let value = context.singleArgument(line, what: "a TLS 1.3 cipher suite list") else { return }
            draft.settings.tls.serverDefaults.cipherSuites = value
        },
        "ssl-default-server-options": { line, draft, context in
            TLSOptions.parseDefaultOptions(
                line,
                isBindSide: false,
                into: &draft.settings.tls.serverDefaults,
                context: &context
            )
        },
        "ssl-server-verify": { line, draft, context in
            guard let value = context.singleArgument(line, what: "'none' or 'required'") else { return }
            guard let verify = ServerCertificateVerify(rawValue: value) else {
                context.alert("'ssl-server-verify' expects 'none' or 'required', got '\(value)'", line)
                return
            }
            draft.settings.tls.serverVerify = verify
        },
        "tune.ssl.cachesize": { line, draft, context in
            guard let value = context.singleArgument(line, what: "an integer argument"),
                let number = context.integer(value, in: 0...Units.maxValue, keyword: "tune.ssl.cachesize", line)
            else { return }
            draft.settings.tls.sessionCacheSize = number
        },
        "nbproc": { line, draft, context in
            guard let value = context.singleArgument(line, what: "an integer argument") else { return }
            if value == "1" {
                context.warning("'nbproc 1' ignored by sluice: sluice runs one process", line)
            } else {
                context.alert("'nbproc \(value)' is not supported by sluice: sluice runs one process", line)
            }
        },
    ]

    /// Keywords accepted with a warning because they only tune HAProxy's internals (PRODUCT.md). A name ending in
    /// `.` covers every HAProxy keyword with that prefix.
    static let ignored: [String] = [
        "cpu-map", "master-worker", "tune.ssl.default-dh-param", "tune.ssl.lifetime", "tune.h2.", "tune.http.",
        "tune.idletimer", "spread-checks",
    ]

    /// True when `keyword` is one HAProxy knows and sluice accepts with an "ignored" warning.
    static func isIgnored(_ keyword: String) -> Bool {
        guard HAProxyKeywords.global.contains(keyword) else { return false }
        return ignored.contains { $0.hasSuffix(".") ? keyword.hasPrefix($0) : keyword == $0 }
    }

    /// Alerts when `keyword` was already set in a `global` section (HAProxy: "already specified").
    private static func once(
        _ keyword: String,
        _ line: ConfigLine,
        _ draft: inout GlobalDraft,
        _ context: inout ParseContext
    ) -> Bool {
        if let previous = draft.seen[keyword] {
            context.alert("'\(keyword)' already specified at \(previous)", line)
            return false
        }
        draft.seen[keyword] = line.location
        return true
    }

    /// Parses one line of a `global` section: a supported keyword, an ignored one (warning), a known HAProxy
    /// keyword (not supported), a keyword of another section, or an unknown one (with a suggestion).
    static func parse(_ line: ConfigLine, draft: inout GlobalDraft, context: inout ParseContext) {
        let keyword = line.words[0]
        if keyword == "no", line.words.count >= 2, HAProxyKeywords.global.contains(line.words[1]) {
            // HAProxy accepts `no` before a few boolean keywords (`no busy-polling`); none is supported yet.
            context.alert("'no \(line.words[1])' is not supported by sluice", line)
        } else if let handler = keywords[keyword] {
            handler(line, &draft, &context)
        } else if isIgnored(keyword) {
            context.warning("'\(keyword)' ignored by sluice: it only tunes HAProxy internals", line)
        } else if HAProxyKeywords.global.contains(keyword) {
            context.alert("'\(ProxySection.unsupportedName(line.words))' is not supported by sluice", line)
        } else if HAProxyKeywords.proxy.contains(keyword) {
            context.alert("'\(keyword)' is not allowed in 'global' section (it is a proxy keyword)", line)
        } else {
            let candidates = keywords.keys.sorted() + HAProxyKeywords.global.sorted()
            context.alert(
                "unknown keyword '\(keyword)' in 'global' section"
                    + KeywordSuggestion.suffix(for: keyword, among: candidates),
                line
            )
        }
    }

    /// End-of-load checks over every `global` section: buffer sizes.
    static func validate(_ draft: GlobalDraft, context: inout ParseContext) {
        let tune = draft.settings.tune
        if tune.bufferSize < 1024 {
            context.sink.alert(
                "'tune.bufsize' must be at least 1024 bytes, got \(tune.bufferSize)",
                at: draft.bufferSizeLocation
            )
        } else if tune.maxRewrite >= tune.bufferSize / 2 {
            context.sink.alert(
                "'tune.maxrewrite' (\(tune.maxRewrite)) must be less than half of 'tune.bufsize' (\(tune.bufferSize))",
                at: draft.maxRewriteLocation ?? draft.bufferSizeLocation
            )
        }
    }
}
