// SPDX-License-Identifier: Apache-2.0
// StatsSnapshot: reads the running objects (frontends, backends, servers, process counters) into what the stats
// page, `show stat`, `show info`, `show servers state` and the Prometheus exporter print: StatsRow lines in
// HAProxy's CSV layout and `show info`'s name/value pairs. Also the server's state as HAProxy names and numbers
// it. Runs when a page or command is asked for, never per event; it may allocate.
import Glibc
import SluiceConfig
import SluiceCore

extension Server {
    /// The server's state in the CSV's `status` column: MAINT, DRAIN, DOWN, "no check" or UP (HAProxy's order).
    var statusText: String {
        if isInMaintenance { return "MAINT" }
        if !isUp { return "DOWN" }
        if isDraining { return "DRAIN" }
        return config.options.check.isEnabled ? "UP" : "no check"
    }

    /// The state label Prometheus's `server_status` sets to 1: DOWN, UP, MAINT, DRAIN (NOLB is never used).
    var prometheusState: String {
        if isInMaintenance { return "MAINT" }
        if !isUp { return "DOWN" }
        return isDraining ? "DRAIN" : "UP"
    }

    /// `srv_op_state` of `show servers state`: 0 stopped, 2 running (a server in maintenance reports stopped).
    var operationalState: Int { isUp && !isInMaintenance ? 2 : 0 }

    /// `srv_admin_state`: HAProxy's SRV_ADMF_* bits that sluice has: FMAINT 0x01 (maintenance set in the file or
    /// here) and FDRAIN 0x08.
    var adminStateBits: Int { (isInMaintenance ? 0x01 : 0) | (isDraining ? 0x08 : 0) }

    /// The weight the file gave (`srv_iweight`, the base of `weight N%`).
    var initialWeight: Int { config.options.weight }

    /// The CSV's `sid`: the server's position in its backend, from 1 (sluice has no `id` keyword).
    var statsID: Int { position + 1 }

    /// `addr` of the CSV: `ip:port`.
    var addressText: String { "\(config.address)" }

    /// The host part of the address (`srv_addr`) and its port (`srv_port`).
    var hostAndPort: (host: String, port: Int) {
        switch config.address {
        case .ipv4(let a, let port): return ("\(a >> 24).\((a >> 16) & 255).\((a >> 8) & 255).\(a & 255)", Int(port))
        case .ipv6(let a, let port): return ("\(a)", Int(port))
        case .unix(let path): return (path, 0)
        }
    }
}

extension Backend {
    /// Servers that take new traffic: (active count, backup count, sum of active weights).
    /// Usable active and backup servers, and the weight the balancer works with: the active servers' sum, or,
    /// when none is usable, the weight of the first usable backup, the one that takes the traffic (HAProxy's
    /// tot_weight without `allbackups`).
    var usableSummary: (active: Int, backup: Int, weight: Int) {
        var active = 0
        var backup = 0
        var weight = 0
        var firstBackupWeight = 0
        for s in servers where s.isUsable {
            if s.isBackup {
                if backup == 0 { firstBackupWeight = s.weight }
                backup += 1
            } else {
                active += 1
                weight += s.weight
            }
        }
        return (active, backup, active > 0 ? weight : firstBackupWeight)
    }

    /// UP while some server can take traffic (or the backend has no server at all, as HAProxy reports it).
    var isUp: Bool { servers.isEmpty || servers.contains { $0.isUsable } }
}

extension Loop {
    /// Seconds since the process started.
    var uptimeSeconds: Int { max(0, Sys.wallClock().seconds - process.startSeconds) }

    /// The proxies' `iid`s by name: their order in the file from 1, after HAProxy's GLOBAL proxy (the CLI's own,
    /// numbered 1) when a stats socket exists.
    func proxyIDs() -> [String: Int] {
        var ids: [String: Int] = [:]
        let first = runtime.config.global.statsSockets.isEmpty ? 1 : 2
        for (i, p) in runtime.config.proxies.enumerated() where ids[p.name] == nil { ids[p.name] = first + i }
        return ids
    }

    /// Every CSV row in file order: per proxy its FRONTEND, its servers, its BACKEND, as HAProxy's `show stat`.
    func statsRows() -> [StatsRow] {
        var frontends: [String: Frontend] = [:]
        for f in runtime.frontends { frontends[f.name] = f }
        var backends: [String: Backend] = [:]
        for b in runtime.backends { backends[b.name] = b }
        let ids = proxyIDs()
        var rows: [StatsRow] = []
        var seen = Set<String>()
        for p in runtime.config.proxies where seen.insert(p.name).inserted {
            let iid = ids[p.name] ?? 0
            if let f = frontends[p.name] { rows.append(frontendRow(f, iid: iid)) }
            if let b = backends[p.name] {
                for s in b.servers { rows.append(serverRow(s, iid: iid)) }
                rows.append(backendRow(b, iid: iid))
            }
        }
        return rows
    }

    private func secondsSince(_ ticks: Ticks) -> Int { ticks < 0 ? -1 : Int((clock.now - ticks) / 1000) }

    private func frontendRow(_ f: Frontend, iid: Int) -> StatsRow {
        var r = StatsRow(kind: .frontend, proxy: f.name, service: "FRONTEND")
        let c = f.stats
        let isHTTP = f.config.mode == .http
        r[int: "scur"] = f.currentConnections
        r[int: "smax"] = c.maxSessions
        r[int: "slim"] = f.maxConnections
        r[int: "stot"] = f.totalConnections
        r[int: "bin"] = c.bytesIn
        r[int: "bout"] = c.bytesOut
        r[int: "dreq"] = c.deniedRequests
        r[int: "dresp"] = c.deniedResponses
        r[int: "ereq"] = c.requestErrors
        Self.setTLSCounts(&r, c)
        r["status"] = stopMode != .running || f.isRemoved ? "STOP" : f.isFull ? "FULL" : "OPEN"
        r[int: "pid"] = 1
        r[int: "iid"] = iid
        r[int: "sid"] = 0
        r[int: "rate"] = c.sessionRate.current
        r[int: "rate_lim"] = 0
        r[int: "rate_max"] = c.sessionRate.max
        if isHTTP {
            setResponses(&r, c.responses)
            r[int: "req_rate"] = c.requestRate.current
            r[int: "req_rate_max"] = c.requestRate.max
            r[int: "req_tot"] = c.requests
            for k in ["comp_in", "comp_out", "comp_byp", "comp_rsp", "cache_lookups", "cache_hits"] { r[int: k] = 0 }
        }
        r["mode"] = isHTTP ? "http" : "tcp"
        r[int: "conn_rate"] = c.sessionRate.current
        r[int: "conn_rate_max"] = c.sessionRate.max
        r[int: "conn_tot"] = f.totalConnections
        r[int: "intercepted"] = c.intercepted
        r[int: "dcon"] = f.deniedConnections
        r[int: "dses"] = 0
        r[int: "wrew"] = 0
        r[int: "eint"] = 0
        if isHTTP {
            r[int: "h1_open_connections"] = f.currentConnections
            r[int: "h1_total_connections"] = f.totalConnections
            r[int: "h1_total_streams"] = c.requests
            r[int: "h1_bytes_in"] = c.bytesIn
            r[int: "h1_bytes_out"] = c.bytesOut
        }
        return r
    }

    private func serverRow(_ s: Server, iid: Int) -> StatsRow {
        var r = StatsRow(kind: .server, proxy: s.backend.name, service: s.name)
        let c = s.stats
        let isHTTP = s.backend.config.mode == .http
        let check = s.config.options.check
        r[int: "qcur"] = 0
        r[int: "qmax"] = 0
        r[int: "scur"] = s.currentConnections
        r[int: "smax"] = s.maxSeenConnections
        if s.maxConnections > 0 { r[int: "slim"] = s.maxConnections }
        r[int: "stot"] = s.totalConnections
        r[int: "bin"] = c.bytesIn
        r[int: "bout"] = c.bytesOut
        r[int: "dresp"] = c.deniedResponses
        r[int: "econ"] = s.failedConnects
        r[int: "eresp"] = c.responseErrors
        r[int: "wretr"] = c.retries
        r[int: "wredis"] = c.redispatches
        r["status"] = s.statusText
        r[int: "weight"] = s.weight
        r[int: "act"] = s.isBackup ? 0 : 1
        r[int: "bck"] = s.isBackup ? 1 : 0
        r[int: "lastchg"] = max(0, Sys.wallClock().seconds - s.lastStateChangeSeconds)
        r[int: "pid"] = 1
        r[int: "iid"] = iid
        r[int: "sid"] = s.statsID
        r[int: "lbtot"] = s.totalConnections
        r[int: "rate"] = c.sessionRate.current
        r[int: "rate_max"] = c.sessionRate.max
        if check.isEnabled {
            r[int: "check_rise"] = check.rise
            r[int: "check_fall"] = check.fall
            r[int: "chkfail"] = s.checkFailures
            r[int: "chkdown"] = s.checkDownTransitions
            r[int: "downtime"] = s.totalDowntimeSeconds
            // A paused check (maintenance) shows no result, as HAProxy's (CHK_ST_ENABLED without CHK_ST_PAUSED).
            if let c = s.healthCheck, !c.isPaused {
                Self.setCheckColumns(&r, c)
            }
        }
        if isHTTP {
            setResponses(&r, c.responses)
            r[int: "req_tot"] = c.requests
        }
        r[int: "cli_abrt"] = c.clientAborts
        r[int: "srv_abrt"] = c.serverAborts
        r[int: "lastsess"] = secondsSince(c.lastSessionTicks)
        r["addr"] = s.addressText
        r["mode"] = isHTTP ? "http" : "tcp"
        r[int: "wrew"] = 0
        r[int: "eint"] = 0
        r[int: "idle_conn_cur"] = s.idleSlots.count
        r[int: "used_conn_cur"] = s.currentConnections
        r[int: "uweight"] = s.weight
        r[int: "srv_icur"] = s.idleSlots.count
        Self.setConnectionCounts(&r, c)
        Self.setTLSCounts(&r, c)
        Self.setTimes(&r, c.times)
        return r
    }

    private func backendRow(_ b: Backend, iid: Int) -> StatsRow {
        var r = StatsRow(kind: .backend, proxy: b.name, service: "BACKEND")
        let c = b.stats
        let isHTTP = b.config.mode == .http
        let usable = b.usableSummary
        var failedConnects = 0
        var lastChange = 0
        var idle = 0
        for s in b.servers {
            failedConnects += s.failedConnects
            lastChange = max(lastChange, s.lastStateChangeSeconds)
            idle += s.idleSlots.count
        }
        r[int: "qcur"] = b.queue.count
        r[int: "qmax"] = max(c.maxQueue, b.queue.maxCount)
        r[int: "scur"] = b.currentConnections
        r[int: "smax"] = c.maxSessions
        r[int: "slim"] = fullConnections(of: b)
        r[int: "stot"] = b.totalConnections
        r[int: "bin"] = c.bytesIn
        r[int: "bout"] = c.bytesOut
        r[int: "dreq"] = c.deniedRequests
        r[int: "dresp"] = c.deniedResponses
        r[int: "econ"] = failedConnects
        r[int: "eresp"] = c.responseErrors
        r[int: "wretr"] = c.retries
        r[int: "wredis"] = c.redispatches
        r["status"] = b.isUp ? "UP" : "DOWN"
        r[int: "weight"] = usable.weight
        r[int: "act"] = usable.active
        r[int: "bck"] = usable.backup
        r[int: "chkdown"] = 0
        r[int: "lastchg"] = max(0, Sys.wallClock().seconds - (lastChange > 0 ? lastChange : process.startSeconds))
        r[int: "downtime"] = 0
        r[int: "pid"] = 1
        r[int: "iid"] = iid
        r[int: "sid"] = 0
        r[int: "lbtot"] = b.totalConnections
        r[int: "rate"] = c.sessionRate.current
        r[int: "rate_max"] = c.sessionRate.max
        if isHTTP {
            setResponses(&r, c.responses)
            r[int: "req_tot"] = c.requests
            for k in ["comp_in", "comp_out", "comp_byp", "comp_rsp", "cache_lookups", "cache_hits"] { r[int: k] = 0 }
        }
        r[int: "cli_abrt"] = c.clientAborts
        r[int: "srv_abrt"] = c.serverAborts
        r[int: "lastsess"] = secondsSince(c.lastSessionTicks)
        r["mode"] = isHTTP ? "http" : "tcp"
        r["algo"] = Self.algorithmName(b.config.balance)
        r[int: "wrew"] = 0
        r[int: "eint"] = 0
        r[int: "uweight"] = usable.weight
        Self.setConnectionCounts(&r, c)
        Self.setTLSCounts(&r, c)
        Self.setTimes(&r, c.times)
        r[int: "agg_server_status"] = 0
        r[int: "agg_server_check_status"] = 0
        r[int: "agg_check_status"] = 0
        if isHTTP { r[int: "h1_open_connections"] = idle }
        return r
    }

    /// The last check's columns as HAProxy fills them: check_status ("* " while one runs; INI before the first
    /// result), check_code (L7 results), check_duration (ms), check_desc, last_chk and check_health.
    private static func setCheckColumns(_ r: inout StatsRow, _ c: HealthCheck) {
        let running = c.phase != .idle ? "* " : ""
        r[int: "check_health"] = c.state.health
        guard let status = c.lastStatus else {
            r["check_status"] = running + "INI"
            r["check_desc"] = "Initializing"
            return
        }
        r["check_status"] = running + status.shortName
        if status.hasCode { r[int: "check_code"] = c.lastCode }
        if c.lastDurationMs >= 0 { r[int: "check_duration"] = Int(c.lastDurationMs) }
        r["check_desc"] = status.reason
        r["last_chk"] = c.lastInfoText
    }

    /// connect/reuse: server connections attempted and reused.
    private static func setConnectionCounts(_ r: inout StatsRow, _ c: TrafficCounters) {
        r[int: "connect"] = c.connects
        r[int: "reuse"] = c.reuses
    }

    /// The ssl module's columns (TLS handshakes). Like HAProxy, shown for every row kind, 0 without TLS.
    private static func setTLSCounts(_ r: inout StatsRow, _ c: TrafficCounters) {
        r[int: "ssl_sess"] = c.tlsSessions
        r[int: "ssl_reused_sess"] = c.tlsReusedSessions
        r[int: "ssl_failed_handshake"] = c.tlsFailedHandshakes
    }

    /// qtime/ctime/rtime/ttime (averages over the last 1024 exchanges) and their maxima, once there is a sample.
    private static func setTimes(_ r: inout StatsRow, _ t: TimeAverages) {
        guard t.samples > 0 else { return }
        let columns: [(String, TimeAverages.Column)] = [
            ("qtime", t.queue), ("ctime", t.connect), ("rtime", t.response), ("ttime", t.total),
        ]
        for (name, column) in columns {
            r[int: name] = column.average(samples: t.samples)
            r[int: name + "_max"] = column.max
        }
    }

    private func setResponses(_ r: inout StatsRow, _ counts: StatusClassCounts) {
        r[int: "hrsp_1xx"] = counts.informational
        r[int: "hrsp_2xx"] = counts.success
        r[int: "hrsp_3xx"] = counts.redirection
        r[int: "hrsp_4xx"] = counts.clientError
        r[int: "hrsp_5xx"] = counts.serverError
        r[int: "hrsp_other"] = counts.other
    }

    /// A backend's `slim`: HAProxy's default `fullconn`, a tenth of the maxconn of the frontends that may use it.
    private func fullConnections(of b: Backend) -> Int {
        var total = 0
        for f in runtime.frontends where f.defaultBackend === b || f.switches.contains(where: { $0.backend === b }) {
            total += f.maxConnections
        }
        return total == 0 ? 1 : (total + 9) / 10
    }

    /// The `balance` keyword of an algorithm, as the CSV's `algo` column shows it.
    static func algorithmName(_ a: BalanceAlgorithm) -> String {
        switch a {
        case .roundRobin: return "roundrobin"
        case .staticRoundRobin: return "static-rr"
        case .leastConn: return "leastconn"
        case .first: return "first"
        case .source: return "source"
        case .uri: return "uri"
        case .random: return "random"
        }
    }

    /// `show info`'s lines, in HAProxy 2.6's order for the fields sluice has (the others are left out).
    func infoLines() -> [(name: String, value: String)] {
        let up = uptimeSeconds
        let listenerCount = listeners.reduce(0) { $0 + ($1 == nil ? 0 : 1) } + adminListeners.count
        var outBytes = 0
        for f in runtime.frontends { outBytes += f.stats.bytesOut }
        return [
            ("Name", "sluice"),
            ("Version", Daemon.version),
            ("Release_date", ""),
            ("Nbthread", "1"),
            ("Nbproc", "1"),
            ("Process_num", "1"),
            ("Pid", "\(Sys.getpid())"),
            ("Uptime", Self.uptimeText(up)),
            ("Uptime_sec", "\(up)"),
            ("Memmax_MB", "0"),
            ("Ulimit-n", "\(fdCapacity)"),
            ("Maxsock", "\(fdCapacity)"),
            ("Maxconn", "\(maxConnections)"),
            ("Hard_maxconn", "\(maxConnections)"),
            ("CurrConns", "\(activeSessions)"),
            ("CumConns", "\(acceptedTotal + process.adminConnections)"),
            ("CumReq", "\(process.requests)"),
            ("ConnRate", "\(process.connectionRate.current)"),
            ("ConnRateLimit", "0"),
            ("MaxConnRate", "\(process.connectionRate.max)"),
            ("SessRate", "\(process.connectionRate.current)"),
            ("SessRateLimit", "0"),
            ("MaxSessRate", "\(process.connectionRate.max)"),
            ("Tasks", "\(activeSessions + adminConnections.count)"),
            ("Run_queue", "0"),
            ("node", Self.hostName()),
            ("Stopping", stopMode == .running ? "0" : "1"),
            ("Jobs", "\(activeSessions + adminConnections.count + listenerCount)"),
            ("Unstoppable Jobs", "0"),
            ("Listeners", "\(listenerCount)"),
            ("TotalBytesOut", "\(outBytes)"),
            ("Build info", Daemon.version),
            ("Start_time_sec", "\(process.startSeconds)"),
        ]
    }

    /// HAProxy's `Uptime:` text, `0d 0h00m03s`.
    static func uptimeText(_ seconds: Int) -> String {
        let d = seconds / 86400
        let h = seconds / 3600 % 24
        let m = seconds / 60 % 60
        let s = seconds % 60
        return "\(d)d \(h)h\(m < 10 ? "0" : "")\(m)m\(s < 10 ? "0" : "")\(s)s"
    }

    /// The host name (`node` in `show info`), from uname.
    static func hostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "" }
        let bytes = name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
