// SPDX-License-Identifier: Apache-2.0
// Parse-time state shared by the section parsers: the diagnostics sink, the environment, and the draft of each
// proxy (model value plus what only parsing needs: default-server, ACL names, locations for the second pass).
// Also the small argument-count helpers every keyword uses, so their messages read the same everywhere.

/// The kind of section a line belongs to.
enum SectionKind: String {
    case global
    case defaults
    case frontend
    case backend
    case listen

    /// Capabilities of a proxy of this kind (a `defaults` section may hold settings for both).
    var capabilities: ProxyCapabilities {
        switch self {
        case .frontend: return .frontend
        case .backend: return .backend
        case .listen, .defaults: return .listen
        case .global: return []
        }
    }
}

/// A `defaults`, `frontend`, `backend` or `listen` section being parsed.
struct ProxyDraft {
    var config: ProxyConfig
    var kind: SectionKind
    /// `default-server` options in force for the next `server` line.
    var defaultServer = ServerOptions()
    /// The defaults section this one inherited from, as it was then: `default option <name>` restores its value.
    var inherited: ProxyConfig?
    /// Named ACLs: name -> index in `config.acls`.
    var aclIndexByName: [String: Int] = [:]
    /// ACL names whose `acl` line failed: references to them fail silently (the line already has its alert).
    var failedACLNames: Set<String> = []
    /// Where `default_backend` was set (the defaults section's line when inherited).
    var defaultBackendLocation: SourceLocation?
    /// Where each server was declared, by name (first one wins), for duplicate checks.
    var serverLocations: [String: SourceLocation] = [:]
    /// Backend names this proxy's `default_backend`/`use_backend` lines name, even lines that failed later (so a
    /// backend is not reported unused because of another line's error).
    var referencedBackends: Set<String> = []
    /// A `use_backend` with a dynamic name (`%[...]`) was seen: any backend may be used.
    var hasDynamicBackend = false
    /// A `server` line was seen (even one that failed).
    var hasServerLine = false
    /// A `bind` line was seen (even one that failed), so "no bind" is not reported on top of its alert.
    var hasBindLine = false
    /// False when the section header was invalid: the body is still checked, the second pass skips it.
    var isValid = true
    /// `http-check send` and `http-check expect`, combined with `option httpchk` by the second pass (the lines may
    /// come in any order, and from the defaults section).
    var httpCheckSend: HTTPCheckSend?
    var httpCheckExpect: HTTPCheckExpect?
    /// The first `http-check` line, for the warning when there is no `option httpchk`.
    var httpCheckLocation: SourceLocation?
    /// Which of `http-request`, `http-response` and `redirect` added rules (for HAProxy's warning in mode tcp).
    var httpRuleKeywords: Set<String> = []
    /// Whether `httpCheckSend`/`httpCheckExpect` come from this section (not inherited from its defaults).
    var ownsHTTPCheckRules = (send: false, expect: false)

    /// "frontend 'name'" for messages ("defaults section" for an anonymous defaults one).
    var displayName: String {
        if kind == .defaults && config.name.isEmpty { return "defaults section" }
        return "\(kind.rawValue) '\(config.name)'"
    }
}

/// `http-check send [meth <m>] [uri <u>] [ver <v>] [hdr <name> <value>]* [body <string>]`.
struct HTTPCheckSend {
    var method: String?
    var uri: String?
    var version: String?
    var headers: [HTTPHeaderField] = []
    var body: String?
}

/// Diagnostics sink and environment for the section parsers.
struct ParseContext {
    var sink = DiagnosticSink()
    let environment: ConfigEnvironment
    /// Name of the current section (HAProxy's `.SECTION` pseudo-variable).
    var sectionName = ""
    /// The global TLS settings as of the current line (`crt-base`, `ssl-default-bind-*`, ...): bind and server
    /// lines take them from the global lines above them, as HAProxy does.
    var globalTLS = GlobalTLSSettings()

    /// Starts with no diagnostics.
    init(environment: ConfigEnvironment) {
        self.environment = environment
    }

    /// Records an alert for `line`.
    mutating func alert(_ message: String, _ line: ConfigLine) {
        sink.alert(message, at: line.location)
    }

    /// Records a warning for `line`.
    mutating func warning(_ message: String, _ line: ConfigLine) {
        sink.warning(message, at: line.location)
    }

    /// Checks that `line` has no word after index `last`; otherwise alerts with HAProxy's wording
    /// ("'kw' cannot handle unexpected argument 'x'") and returns false. `keyword` defaults to the first word.
    mutating func expectNoMoreThan(_ last: Int, _ line: ConfigLine, keyword: String? = nil) -> Bool {
        guard line.words.count > last + 1 else { return true }
        let name = keyword ?? line.words[0]
        alert("'\(name)' cannot handle unexpected argument '\(line.words[last + 1])'", line)
        return false
    }

    /// Checks that `line` has exactly one argument after the keyword; returns it, or alerts ("'kw' expects
    /// <what>") and returns nil.
    mutating func singleArgument(_ line: ConfigLine, what: String) -> String? {
        guard line.words.count >= 2 else {
            alert("'\(line.words[0])' expects \(what)", line)
            return nil
        }
        guard expectNoMoreThan(1, line) else { return nil }
        return line.words[1]
    }

    /// Parses `value` as an integer within `range` for `keyword`; alerts ("'kw' expects an integer from a to b,
    /// got 'x'") and returns nil otherwise.
    mutating func integer(_ value: String, in range: ClosedRange<Int>, keyword: String, _ line: ConfigLine) -> Int? {
        guard let number = Units.integer(value), range.contains(number) else {
            alert(
                "'\(keyword)' expects an integer from \(range.lowerBound) to \(range.upperBound), got '\(value)'",
                line
            )
            return nil
        }
        return number
    }

    /// Parses `value` as a time for `keyword`; alerts and returns nil otherwise.
    mutating func milliseconds(_ value: String, keyword: String, _ line: ConfigLine) -> Int? {
        switch Units.milliseconds(value) {
        case .success(let ms): return ms
        case .failure(let error):
            alert(Units.timeMessage(error, keyword: keyword, value: value), line)
            return nil
        }
    }

    /// Reads a file named in the configuration; alerts ("<what> : cannot read '<path>' (<reason>)") and returns nil
    /// when it cannot be read.
    mutating func readFile(_ path: String, what: String, _ line: ConfigLine) -> [UInt8]? {
        switch environment.readFile(path) {
        case .success(let bytes): return bytes
        case .failure(let error):
            alert("\(what) : cannot read '\(path)' (\(error.reason))", line)
            return nil
        }
    }

    /// Checks that `path` is a readable file (or, with `allowsDirectory`, a readable directory); alerts ("<what> :
    /// cannot use '<path>' (<reason>)") and returns nil otherwise.
    mutating func checkFile(
        _ path: String,
        allowsDirectory: Bool = false,
        what: String,
        _ line: ConfigLine
    ) -> FileKind? {
        switch environment.fileKind(path) {
        case .success(.directory) where !allowsDirectory:
            alert("\(what) : cannot use '\(path)' (Is a directory)", line)
            return nil
        case .success(let kind): return kind
        case .failure(let error):
            alert("\(what) : cannot use '\(path)' (\(error.reason))", line)
            return nil
        }
    }

    /// Parses `value` as a size for `keyword`; alerts and returns nil otherwise.
    mutating func bytes(_ value: String, keyword: String, _ line: ConfigLine) -> Int? {
        switch Units.bytes(value) {
        case .success(let count): return count
        case .failure(let error):
            alert(Units.sizeMessage(error, keyword: keyword, value: value), line)
            return nil
        }
    }
}

/// Name rules shared by proxies, servers and ACLs (HAProxy's invalid_char()).
enum NameRules {
    /// The first character not allowed in a name (letters, digits, `-`, `_`, `.`, `:`), nil when all are fine.
    static func invalidCharacter(in name: String) -> Character? {
        for scalar in name.unicodeScalars {
            let v = scalar.value
            let ok =
                (v >= 48 && v <= 57) || (v >= 65 && v <= 90) || (v >= 97 && v <= 122) || v == 45 || v == 95
                || v == 46 || v == 58
            if !ok { return Character(scalar) }
        }
        return nil
    }
}
