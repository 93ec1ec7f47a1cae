// SPDX-License-Identifier: Apache-2.0
// AdminCommands: HAProxy's CLI commands on the admin socket (`stats socket`): parsing a line into commands and
// words (`;` separates commands, a backslash escapes the next character), the privilege levels, and each
// command's output in HAProxy 2.6's words (error texts included, so scripts that match them keep working).
// Changes to servers (maintenance, drain, weight, maxconn) apply at once and survive reloads through
// Server.adopt. Runs on the loop thread when a command line arrives; may allocate, never on the hot path.
import SluiceConfig
import SluiceCore

/// One CLI connection's state that commands may change.
struct AdminContext {
    /// What this connection may do; `operator` and `user` lower it for the rest of the connection.
    var level: StatsLevel
    /// `prompt` toggles it: each answer is followed by `> ` and the connection stays open.
    var isInteractive = false
    /// `quit`: close once the answer is out.
    var wantsClose = false
}

/// Splitting a command line the way HAProxy's CLI does.
enum AdminCommandLine {
    /// The commands of one line: split on unescaped `;`, each split into words on spaces and tabs; a backslash
    /// makes the next character literal. Empty commands (`;;`) are kept as empty word lists, as HAProxy answers
    /// them too.
    static func parse(_ line: String) -> [[String]] {
        var commands: [[String]] = []
        var words: [String] = []
        var word = ""
        var hasWord = false
        var escaped = false
        func endWord() {
            if hasWord { words.append(word) }
            word = ""
            hasWord = false
        }
        for ch in line {
            if escaped {
                word.append(ch)
                hasWord = true
                escaped = false
                continue
            }
            switch ch {
            case "\\":
                escaped = true
            case " ", "\t":
                endWord()
            case ";":
                endWord()
                commands.append(words)
                words = []
            default:
                word.append(ch)
                hasWord = true
            }
        }
        endWord()
        commands.append(words)
        return commands
    }
}

/// A command the CLI knows: the words it starts with, its usage line and help text (HAProxy's where it has one),
/// and the level it needs.
struct AdminCommand {
    let words: [String]
    let usage: String
    let help: String
    let level: StatsLevel

    /// `help`'s line: two spaces, the usage padded to 40 columns, `: `, the help text.
    var helpLine: String {
        let pad = usage.count < 40 ? String(repeating: " ", count: 40 - usage.count) : ""
        return "  \(usage)\(pad): \(help)"
    }

    /// Every command, in `help`'s order (HAProxy's: alphabetical, then help, prompt and quit).
    static let all: [AdminCommand] = [
        AdminCommand(
            words: ["disable", "server"],
            usage: "disable server (DEPRECATED)",
            help: "disable a server for maintenance (use 'set server' instead)",
            level: .admin
        ),
        AdminCommand(
            words: ["enable", "server"],
            usage: "enable server  (DEPRECATED)",
            help: "enable a disabled server (use 'set server' instead)",
            level: .admin
        ),
        AdminCommand(
            words: ["get", "weight"],
            usage: "get weight <bk>/<srv>",
            help: "report a server's current weight",
            level: .user
        ),
        AdminCommand(
            words: ["operator"],
            usage: "operator",
            help: "lower the level of the current CLI session to operator",
            level: .operator
        ),
        AdminCommand(
            words: ["set", "maxconn", "server"],
            usage: "set maxconn server <bk>/<srv>",
            help: "change a server's maxconn setting",
            level: .admin
        ),
        AdminCommand(
            words: ["set", "server"],
            usage: "set server <bk>/<srv> [opts]",
            help: "change a server's state or weight",
            level: .admin
        ),
        AdminCommand(
            words: ["set", "weight"],
            usage: "set weight <bk>/<srv>  (DEPRECATED)",
            help: "change a server's weight (use 'set server' instead)",
            level: .admin
        ),
        AdminCommand(
            words: ["show", "backend"],
            usage: "show backend",
            help: "list backends in the current running config",
            level: .user
        ),
        AdminCommand(
            words: ["show", "cli", "level"],
            usage: "show cli level",
            help: "display the level of the current CLI session",
            level: .user
        ),
        AdminCommand(
            words: ["show", "info"],
            usage: "show info",
            help: "report information about the running process",
            level: .user
        ),
        AdminCommand(
            words: ["show", "servers", "state"],
            usage: "show servers state [<backend>]",
            help: "dump volatile server information (all or for a single backend)",
            level: .user
        ),
        AdminCommand(
            words: ["show", "sess"],
            usage: "show sess [id]",
            help: "report the list of current sessions or dump this exact session",
            level: .operator
        ),
        AdminCommand(
            words: ["show", "stat"],
            usage: "show stat [no-maint|up]*",
            help: "report counters for each proxy and server",
            level: .user
        ),
        AdminCommand(
            words: ["show", "version"],
            usage: "show version",
            help: "show version of the current process",
            level: .user
        ),
        AdminCommand(
            words: ["user"],
            usage: "user",
            help: "lower the level of the current CLI session to user",
            level: .user
        ),
        AdminCommand(words: ["help"], usage: "help [<command>]", help: "list matching or all commands", level: .user),
        AdminCommand(words: ["prompt"], usage: "prompt", help: "toggle interactive mode with prompt", level: .user),
        AdminCommand(words: ["quit"], usage: "quit", help: "disconnect", level: .user),
    ]

    /// The command `words` starts with (the longest match), or nil.
    static func find(_ words: [String]) -> AdminCommand? {
        var best: AdminCommand?
        for c in all where words.count >= c.words.count && Array(words.prefix(c.words.count)) == c.words {
            if best == nil || c.words.count > best!.words.count { best = c }
        }
        return best
    }

    /// `help` with no argument, and the answer to an empty command.
    static func fullHelp(_ title: String) -> String {
        ([title] + all.map(\.helpLine)).joined(separator: "\n") + "\n"
    }

    /// The answer to an unknown command: HAProxy 2.6's message, then the commands whose words start like the
    /// ones given (or share their first word), then help, prompt and quit; the full list when nothing matches.
    static func unknown(_ words: [String]) -> String {
        guard let first = words.first else {
            return fullHelp("Unknown command. Please enter one of the following commands only :")
        }
        let tail = all.suffix(3)
        var matches = all.dropLast(3).filter { c in
            zip(c.words, words).allSatisfy { $0.0.hasPrefix($0.1) || $0.1.hasPrefix($0.0) }
        }
        if matches.isEmpty { matches = all.dropLast(3).filter { $0.words[0].hasPrefix(String(first.prefix(2))) } }
        if matches.isEmpty { return fullHelp("Unknown command. Please enter one of the following commands only :") }
        let lines =
            ["Unknown command, but maybe one of the following ones is a better match:"]
            + (matches + tail).map(\.helpLine)
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Parses `weight` of `set server ... weight` / `set weight` for `server`: HAProxy's rules and messages.
/// Returns the new weight or the message to print.
func parseServerWeight(_ text: String, initialWeight: Int, isStatic: Bool) -> Result<Int, AdminError> {
    var digits = Substring(text)
    var sign = 1
    if digits.first == "-" || digits.first == "+" {
        sign = digits.first == "-" ? -1 : 1
        digits = digits.dropFirst()
    }
    let numberPart = digits.prefix { $0.isASCII && $0.isNumber }
    guard let magnitude = Int(numberPart.prefix(9)) else {
        return .failure(AdminError("Empty weight string empty or preceded by garbage"))
    }
    var w = sign * magnitude
    let rest = digits.dropFirst(numberPart.count)
    if rest == "%" {
        if w < 0 { return .failure(AdminError("Relative weight must be positive.\n")) }
        w = min(initialWeight * min(w, 25600) / 100, 256)
    } else if w < 0 || w > 256 {
        return .failure(AdminError("Absolute weight can only be between 0 and 256 inclusive.\n"))
    } else if !rest.isEmpty {
        return .failure(AdminError("Trailing garbage in weight string"))
    }
    if isStatic && w != 0 && w != initialWeight {
        return .failure(
            AdminError("Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n")
        )
    }
    return .success(w)
}

/// A message a command answers with instead of doing what was asked.
struct AdminError: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
}

extension Loop {
    /// Runs one command (its words) for a CLI connection and returns what to print, without the empty line
    /// that ends every answer (AdminConnection adds it).
    func runAdminCommand(_ words: [String], _ ctx: inout AdminContext) -> String {
        guard let command = AdminCommand.find(words) else { return AdminCommand.unknown(words) }
        if ctx.level < command.level { return "Permission denied\n" }
        let args = Array(words.dropFirst(command.words.count))
        switch command.words {
        case ["help"]:
            if let topic = args.first {
                let matching = AdminCommand.all.dropLast(3).filter { $0.words[0] == topic }
                if !matching.isEmpty {
                    let lines =
                        ["The following commands are valid at this level:"]
                        + (matching + AdminCommand.all.suffix(3)).map(\.helpLine)
                    return lines.joined(separator: "\n") + "\n"
                }
            }
            return AdminCommand.fullHelp("The following commands are valid at this level:")
        case ["prompt"]:
            ctx.isInteractive.toggle()
            return ""
        case ["quit"]:
            ctx.wantsClose = true
            return ""
        case ["operator"]:
            ctx.level = min(ctx.level, .operator)
            return ""
        case ["user"]:
            ctx.level = .user
            return ""
        case ["show", "cli", "level"]:
            return "\(ctx.level.rawValue)\n"
        case ["show", "version"]:
            return "\(Daemon.version)\n"
        case ["show", "info"]:
            return infoLines().map { "\($0.name): \($0.value)\n" }.joined()
        case ["show", "stat"]:
            return showStat(args, level: ctx.level)
        case ["show", "backend"]:
            return "# name\n" + runtime.backends.map { "\($0.name)\n" }.joined()
        case ["show", "servers", "state"]:
            return showServersState(args.first)
        case ["show", "sess"]:
            return showSessions(args.first)
        case ["get", "weight"]:
            switch findServer(args.first) {
            case .failure(let e): return e.message
            case .success(let s): return "\(s.weight) (initial \(s.initialWeight))\n"
            }
        case ["disable", "server"]:
            return changeServer(args.first) { self.setServerState($0, maintenance: true, draining: $0.isDraining) }
        case ["enable", "server"]:
            return changeServer(args.first) { self.setServerState($0, maintenance: false, draining: $0.isDraining) }
        case ["set", "weight"]:
            guard args.count >= 2 else { return "Require <weight> or <weight%>.\n" }
            return changeServer(args.first) { self.setServerWeight($0, args[1]) }
        case ["set", "maxconn", "server"]:
            return changeServer(args.first) { s in
                guard args.count >= 2 else { return "Require <maxconn>.\n" }
                guard let v = Int(args[1]) else {
                    return args[1].first.map({ $0.isNumber }) == true
                        ? "Trailing garbage in maxconn string" : "maxconn string empty or preceded by garbage"
                }
                guard v >= 0 else { return "Value out of range.\n" }
                s.maxConnections = v
                self.dispatchQueue(of: s.backend)
                return ""
            }
        case ["set", "server"]:
            return setServer(args)
        default:
            return AdminCommand.unknown(words)
        }
    }

    // MARK: show

    /// `show stat [no-maint] [up] [<iid|name> <type> <sid>]`.
    private func showStat(_ args: [String], level: StatsLevel) -> String {
        var rows = statsRows()
        var rest = args
        var unsupported: [String] = []
        rest.removeAll { option in
            switch option {
            case "up":
                rows.removeAll { $0.kind == .server && !($0["status"] == "UP" || $0["status"] == "no check") }
                return true
            case "no-maint":
                rows.removeAll { $0.kind == .server && $0["status"] == "MAINT" }
                return true
            case "typed", "json", "desc":
                unsupported.append(option)
                return true
            default:
                return false
            }
        }
        if !unsupported.isEmpty { return "sluice: 'show stat \(unsupported[0])' is not supported\n" }
        if rest.count >= 3 {
            // HAProxy's filter: proxy (iid, -1 = all, or name), type mask (1 frontend, 2 backend, 4 server, -1
            // all), server id (-1 = all).
            let proxy = rest[0]
            let mask = Int(rest[1]) ?? -1
            let sid = Int(rest[2]) ?? -1
            rows.removeAll { row in
                if proxy != "-1" && proxy != row["iid"] && proxy != row.proxy { return true }
                let bit = row.kind == .frontend ? 1 : row.kind == .backend ? 2 : 4
                if mask != -1 && mask & bit == 0 { return true }
                return sid != -1 && row.kind == .server && String(sid) != row["sid"]
            }
        }
        if level < .operator { StatsRow.hideLegends(&rows) }
        return StatsCSV.render(rows)
    }

    /// `show servers state [<backend>]`: format version 1, HAProxy's header and columns.
    func showServersState(_ backendName: String?) -> String {
        var backends = runtime.backends
        if let name = backendName {
            backends = backends.filter { $0.name == name }
            if backends.isEmpty { return "Can't find backend.\n" }
        }
        let ids = proxyIDs()
        let now = Sys.wallClock().seconds
        var text =
            "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
            + "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
            + "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl "
            + "srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n"
        for b in backends {
            for s in b.servers {
                let check = s.config.options.check
                let (host, port) = s.hostAndPort
                let running = s.operationalState == 2
                let health = running ? (check.isEnabled ? check.rise + check.fall - 1 : check.rise) : 0
                let fields: [String] = [
                    "\(ids[b.name] ?? 0)", b.name, "\(s.statsID)", s.name, host, "\(s.operationalState)",
                    "\(s.adminStateBits)", "\(s.weight)", "\(s.initialWeight)",
                    "\(max(0, now - s.lastStateChangeSeconds))",
                    "\(s.healthCheck?.lastStatus?.haproxyNumber ?? 1)", check.isEnabled ? (s.isUp ? "3" : "2") : "0",
                    "\(health)", check.isEnabled ? "\(6 | (s.healthCheck?.isPaused == true ? 8 : 0))" : "0", "0",
                    "0", "0", "-", "\(port)", "-", s.config.options.usesTLS ? "1" : "0",
                    "\(check.port.map { Int($0) } ?? 0)", "-", "-", "0",
                ]
                text += fields.joined(separator: " ") + "\n"
            }
        }
        return text
    }

    /// `show sess [id]`: one line per session in progress, shaped like HAProxy's (its fields that sluice has).
    private func showSessions(_ id: String?) -> String {
        var text = ""
        let wanted = id.flatMap { UInt64($0.hasPrefix("0x") ? String($0.dropFirst(2)) : $0, radix: 16) }
        if id != nil && id != "all" && wanted == nil { return "Invalid session address.\n" }
        forEachOpenSession { s in
            if let wanted, UInt64(s.index + 1) != wanted { return }
            text += s.cliDescription(now: clock.now) + "\n"
        }
        if wanted != nil && text.isEmpty { return "Session not found.\n" }
        return text
    }

    // MARK: servers

    /// The server named `<backend>/<server>`, or HAProxy's message for why not.
    func findServer(_ path: String?) -> Result<Server, AdminError> {
        guard let path, let slash = path.firstIndex(of: "/") else {
            return .failure(AdminError("Require 'backend/server'.\n"))
        }
        let backendName = String(path[..<slash])
        let serverName = String(path[path.index(after: slash)...])
        guard let b = runtime.backends.first(where: { $0.name == backendName }) else {
            return .failure(AdminError("No such backend.\n"))
        }
        guard let s = b.servers.first(where: { $0.name == serverName }) else {
            return .failure(AdminError("No such server.\n"))
        }
        return .success(s)
    }

    private func changeServer(_ path: String?, _ body: (Server) -> String) -> String {
        switch findServer(path) {
        case .failure(let e): return e.message
        case .success(let s): return body(s)
        }
    }

    /// `set server <b>/<s> state ready|drain|maint` and `set server <b>/<s> weight <w>[%]`.
    private func setServer(_ args: [String]) -> String {
        let usage =
            "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | "
            + "check-addr | check-port | fqdn | health | ssl | state | weight\n"
        return changeServer(args.first) { s in
            let option = args.count > 1 ? args[1] : ""
            let value = args.count > 2 ? args[2] : nil
            switch option {
            case "state":
                switch value {
                case "ready": return self.setServerState(s, maintenance: false, draining: false)
                case "drain": return self.setServerState(s, maintenance: false, draining: true)
                case "maint": return self.setServerState(s, maintenance: true, draining: false)
                default: return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n"
                }
            case "weight":
                guard let value else { return "Require <weight> or <weight%>.\n" }
                return self.setServerWeight(s, value)
            case "addr", "agent", "agent-addr", "agent-port", "agent-send", "check-addr", "check-port", "fqdn",
                "health", "ssl":
                return "sluice: 'set server <srv> \(option)' is not supported\n"
            default:
                return usage
            }
        }
    }

    /// Applies an admin state; logs the change and lets the balancer and the queue see it.
    private func setServerState(_ s: Server, maintenance: Bool, draining: Bool) -> String {
        guard s.isInMaintenance != maintenance || s.isDraining != draining else { return "" }
        let wasMaintenance = s.isInMaintenance
        s.isInMaintenance = maintenance
        s.isDraining = draining
        s.lastStateChangeSeconds = Sys.wallClock().seconds
        // Checks stop in maintenance and start again (one failure from DOWN, as HAProxy) when it ends.
        checkMaintenanceChanged(s)
        let who = "\(s.backend.name)/\(s.name)"
        if maintenance {
            log.admin(
                .notice,
                "Server \(who) is going DOWN for maintenance (set on the admin socket). "
                    + "\(s.currentConnections) active sessions continue.",
                stderrLevel: .warning
            )
        } else if draining {
            log.admin(
                .notice,
                "Server \(who) enters drain mode (set on the admin socket): no new sessions, "
                    + "\(s.currentConnections) active sessions continue.",
                stderrLevel: .warning
            )
        } else {
            log.admin(
                .notice,
                "Server \(who) is \(wasMaintenance ? "UP (leaving maintenance)" : "UP (leaving drain mode)")"
                    + " (set on the admin socket).",
                stderrLevel: .warning
            )
        }
        s.backend.balancer.serversChanged(s.backend.servers)
        if !s.backend.isUp {
            log.admin(.alert, "backend '\(s.backend.name)' has no server available!")
        }
        dispatchQueue(of: s.backend)
        return ""
    }

    private func setServerWeight(_ s: Server, _ text: String) -> String {
        let b = s.backend
        let isStatic: Bool
        switch b.config.balance {
        case .staticRoundRobin: isStatic = true
        case .source, .uri: isStatic = b.config.hashType == .mapBased
        default: isStatic = false
        }
        switch parseServerWeight(text, initialWeight: s.initialWeight, isStatic: isStatic) {
        case .failure(let e):
            return e.message
        case .success(let w):
            if w != s.weight {
                s.weight = w
                b.balancer.serversChanged(b.servers)
                dispatchQueue(of: b)
            }
            return ""
        }
    }

    /// Hands free server slots to sessions waiting in `backend`'s queue (a server came back or got room).
    func dispatchQueue(of backend: Backend) {
        while !backend.queue.isEmpty {
            guard case .server(let s) = backend.balancer.pick(backend.servers, client: .none),
                let next = backend.queue.popFirst()
            else { return }
            next.dequeued(to: s)
        }
    }
}

extension Session {
    /// This session as a `show sess` line: HAProxy's leading fields (id, protocol, source, frontend, backend,
    /// server, age) and its fds.
    func cliDescription(now: Ticks) -> String {
        let proto = client.family == .ipv6 ? "tcpv6" : "tcpv4"
        let be = backend?.name ?? "<NONE>"
        let srv = server?.name ?? connectedServer?.name ?? "<none>"
        let age = max(0, (now - acceptTicks) / 1000)
        return "0x\(String(index + 1, radix: 16)): proto=\(proto) src=\(client) fe=\(frontend.name) be=\(be) "
            + "srv=\(srv) ts=00 age=\(age)s calls=0 rate=0 cpu=0 lat=0 "
            + "scf=[fd=\(clientFD.rawValue)] scb=[fd=\(serverFD.rawValue)] exp= rc=0 c_exp="
    }
}
