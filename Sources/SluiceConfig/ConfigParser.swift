// SPDX-License-Identifier: Apache-2.0
// ConfigParser: the first pass over one or more files: tokenizes each line, follows section changes (`global`,
// `defaults [name] [from d]`, `frontend|backend|listen <name> [from d]`), applies the last `defaults` above a proxy
// (or the named one), and hands each line to its section's parser. Keeps going after errors; state carries across
// files, as HAProxy's does. `finish()` runs the second pass and builds the model.

/// One configuration load: feed files in order with `parse(text:fileName:)`, then call `finish()`.
struct ConfigParser {
    /// Where the next line goes.
    private enum Current {
        case none
        case global
        case defaults(Int)
        case proxy(Int)
        /// A section sluice does not support: its lines are skipped (its header has the alert).
        case skipped
    }

    private var context: ParseContext
    private var global = GlobalDraft()
    private var proxies: [ProxyDraft] = []
    private var defaults: [ProxyDraft] = []
    /// Index in `defaults` of the last `defaults` section seen (the implicit one for the next proxy).
    private var lastDefaults: Int?
    private var current = Current.none

    /// Starts a load that looks things up in `environment`.
    init(environment: ConfigEnvironment) {
        context = ParseContext(environment: environment)
    }

    /// Records a diagnostic not tied to a line (e.g. a file that cannot be read) at the current point of the load.
    mutating func record(_ diagnostic: Diagnostic) {
        context.sink.append(diagnostic)
    }

    /// Marks the start of a new file in load order (for sorting diagnostics); `parse` does it too.
    mutating func beginFile(_ fileName: String) {
        context.sink.beginFile(fileName)
    }

    /// Parses the bytes of one file. Sections may continue from the previous file's state (HAProxy concatenates).
    mutating func parse(text: [UInt8], fileName: String) {
        context.sink.beginFile(fileName)
        for (number, bytes) in Tokenizer.lines(of: text) {
            let location = SourceLocation(file: fileName, line: number)
            let sectionName = context.sectionName
            let result = Tokenizer.words(
                of: bytes,
                variable: context.environment.variable,
                pseudo: { name in
                    switch name {
                    case ".FILE": return fileName
                    case ".LINE": return String(number)
                    case ".SECTION": return sectionName
                    default: return nil
                    }
                }
            )
            switch result {
            case .failure(let error):
                context.sink.alert(error.message, at: location)
            case .success(let words):
                guard !words.isEmpty else { continue }
                handle(ConfigLine(words: words, location: location))
            }
        }
    }

    private mutating func handle(_ line: ConfigLine) {
        let keyword = line.words[0]
        if HAProxyKeywords.sections.contains(keyword) {
            beginSection(line)
            return
        }
        if keyword.hasPrefix(".") {
            context.alert("'\(keyword)' is not supported by sluice", line)
            return
        }
        switch current {
        case .none:
            let known = HAProxyKeywords.global.contains(keyword) || HAProxyKeywords.proxy.contains(keyword)
            if known {
                context.alert("'\(keyword)' found out of section (it must follow a section keyword)", line)
            } else {
                context.alert(
                    "unknown keyword '\(keyword)' out of section"
                        + KeywordSuggestion.suffix(for: keyword, among: HAProxyKeywords.sections.sorted()),
                    line
                )
            }
        case .skipped:
            break
        case .global:
            GlobalSection.parse(line, draft: &global, context: &context)
            // Bind and server lines below take crt-base, ca-base and the ssl-default-* values from here.
            context.globalTLS = global.settings.tls
        case .defaults(let index):
            ProxySection.parse(line, draft: &defaults[index], context: &context)
        case .proxy(let index):
            ProxySection.parse(line, draft: &proxies[index], context: &context)
        }
    }

    private mutating func beginSection(_ line: ConfigLine) {
        let keyword = line.words[0]
        context.sectionName = line.words.count > 1 ? line.words[1] : keyword
        switch keyword {
        case "global":
            _ = context.expectNoMoreThan(0, line)
            current = .global
        case "defaults":
            beginDefaults(line)
        case "frontend":
            beginProxy(line, kind: .frontend)
        case "backend":
            beginProxy(line, kind: .backend)
        case "listen":
            beginProxy(line, kind: .listen)
        default:
            context.alert("section '\(keyword)' is not supported by sluice", line)
            current = .skipped
        }
    }

    /// `defaults`, `defaults <name>`, `defaults [<name>] from <defaults>`. A defaults section starts from
    /// built-in values (no merging with the previous one) unless it names one with `from`.
    private mutating func beginDefaults(_ line: ConfigLine) {
        var words = Array(line.words.dropFirst())
        var name = ""
        if let first = words.first, first != "from" {
            name = first
            words.removeFirst()
            if let bad = NameRules.invalidCharacter(in: name) {
                context.alert("character '\(bad)' is not permitted in 'defaults' name '\(name)'", line)
            }
        }
        var draft = ProxyDraft(
            config: ProxyConfig(name: name, capabilities: .listen, location: line.location),
            kind: .defaults
        )
        if let parent = parseFrom(words, line: line, subject: name.isEmpty ? "defaults section" : "defaults '\(name)'")
        {
            Self.inherit(from: defaults[parent], into: &draft)
        }
        defaults.append(draft)
        lastDefaults = defaults.count - 1
        current = .defaults(defaults.count - 1)
    }

    /// `frontend|backend|listen <name> [from <defaults>]`.
    private mutating func beginProxy(_ line: ConfigLine, kind: SectionKind) {
        let words = line.words
        var draft = ProxyDraft(
            config: ProxyConfig(
                name: words.count > 1 ? words[1] : "",
                capabilities: kind.capabilities,
                location: line.location
            ),
            kind: kind
        )
        if words.count < 2 || words[1].isEmpty {
            context.alert("'\(kind.rawValue)' expects a <name> argument", line)
            draft.isValid = false
        } else {
            let name = words[1]
            if let bad = NameRules.invalidCharacter(in: name) {
                context.alert("character '\(bad)' is not permitted in '\(kind.rawValue)' name '\(name)'", line)
                draft.isValid = false
            }
            if let other = proxies.first(where: {
                $0.isValid && $0.config.name == name && !$0.config.capabilities.isDisjoint(with: kind.capabilities)
            }) {
                context.alert(
                    "\(kind.rawValue) '\(name)' has the same name as \(other.kind.rawValue) '\(name)' declared at"
                        + " \(other.config.location)",
                    line
                )
                draft.isValid = false
            }
        }
        var parent = lastDefaults
        if words.count > 2 {
            if let named = parseFrom(Array(words.dropFirst(2)), line: line, subject: draft.displayName) {
                parent = named
            } else {
                // The header has its alert; the implicit defaults keep the body's checks from cascading.
                draft.isValid = false
            }
        }
        if let parent {
            Self.inherit(from: defaults[parent], into: &draft)
        }
        proxies.append(draft)
        current = .proxy(proxies.count - 1)
    }

    /// Parses `from <defaults-name>` (the words after the section name). Returns the index of that defaults
    /// section, or nil (with an alert) when it is malformed or unknown. An empty `words` returns nil silently.
    private mutating func parseFrom(_ words: [String], line: ConfigLine, subject: String) -> Int? {
        guard !words.isEmpty else { return nil }
        guard words[0] == "from", words.count == 2 else {
            let extra = words[0] == "from" ? (words.count > 2 ? words[2] : "from") : words[0]
            if words[0] == "from" && words.count == 1 {
                context.alert("'from' expects the name of a defaults section", line)
            } else if line.words[0] != "defaults" && words[0] != "from" {
                context.alert(
                    "'\(line.words[0])' cannot handle unexpected argument '\(extra)'; use 'bind' for listening addresses",
                    line
                )
            } else {
                context.alert("'\(line.words[0])' cannot handle unexpected argument '\(extra)'", line)
            }
            return nil
        }
        let name = words[1]
        let matches = defaults.indices.filter { defaults[$0].config.name == name && !name.isEmpty }
        guard let last = matches.last else {
            context.alert("defaults section '\(name)' not found for \(subject)", line)
            return nil
        }
        if matches.count > 1 {
            context.alert(
                "ambiguous defaults section name '\(name)' referenced by \(subject): declared at"
                    + " \(defaults[matches[0]].config.location) and \(defaults[last].config.location)",
                line
            )
        }
        return last
    }

    /// Copies what a `defaults` section sets into a new section. A proxy gets the frontend-only settings only if
    /// it can accept connections; a defaults section gets everything.
    static func inherit(from parent: ProxyDraft, into draft: inout ProxyDraft) {
        let source = parent.config
        draft.inherited = source
        draft.config.mode = source.mode
        draft.config.timeouts = source.timeouts
        draft.config.logTargets = source.logTargets
        draft.config.usesGlobalLog = source.usesGlobalLog
        draft.config.tcpLog = source.tcpLog
        draft.config.httpLog = source.httpLog
        draft.config.dontLogNull = source.dontLogNull
        draft.config.inspectDelayMs = source.inspectDelayMs
        draft.config.httpConnectionMode = source.httpConnectionMode
        draft.config.forwardFor = source.forwardFor
        draft.config.errorFiles = source.errorFiles
        draft.config.stats = source.stats
        if draft.config.capabilities.contains(.frontend) {
            draft.config.maxconn = source.maxconn
            draft.config.defaultBackend = source.defaultBackend
            draft.defaultBackendLocation = parent.defaultBackendLocation
        }
        if draft.config.capabilities.contains(.backend) {
            draft.config.balance = source.balance
            draft.config.hashType = source.hashType
            draft.config.retries = source.retries
            draft.config.redispatch = source.redispatch
            draft.config.httpReuse = source.httpReuse
            draft.config.httpCheck = source.httpCheck
            draft.config.logsHealthChecks = source.logsHealthChecks
            draft.httpCheckSend = parent.httpCheckSend
            draft.httpCheckExpect = parent.httpCheckExpect
            draft.httpCheckLocation = parent.httpCheckLocation
            draft.defaultServer = parent.defaultServer
        }
    }

    /// Runs the second pass (global limits, references between proxies, semantics) and returns the result: the
    /// configuration when no alert was raised, and every diagnostic in file order.
    mutating func finish() -> ConfigLoadResult {
        GlobalSection.validate(global, context: &context)
        for index in proxies.indices {
            Validation.resolve(&proxies[index], global: global.settings, context: &context)
        }
        Validation.check(proxies: proxies, context: &context)
        let diagnostics = context.sink.sorted
        let model = Configuration(global: global.settings, proxies: proxies.map(\.config))
        guard !context.sink.hasAlert else {
            return ConfigLoadResult(configuration: nil, diagnostics: diagnostics, partialConfiguration: model)
        }
        return ConfigLoadResult(configuration: model, diagnostics: diagnostics)
    }
}
