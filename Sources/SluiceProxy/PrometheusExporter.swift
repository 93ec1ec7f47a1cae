// SPDX-License-Identifier: Apache-2.0
// PrometheusExporter: `http-request use-service prometheus-exporter` — the process, frontend, backend and server
// metrics in the text exposition format 0.0.4, named after HAProxy 2.6's exporter (addons/promex) with the
// `sluice_` prefix instead of `haproxy_`, with its HELP texts and types. Each metric's HELP and TYPE come once,
// followed by its series for every object. Values come from `show info` and the CSV rows (StatsSnapshot); a
// field sluice leaves empty produces no series. Rendering only, never on the hot path.

/// One metric: its name after the `sluice_<scope>_` prefix, HELP text, type, and where its value comes from.
struct PrometheusMetric {
    enum Kind: String {
        case gauge
        case counter
    }

    /// How a series gets its value.
    enum Source {
        /// A `show info` field.
        case info(String)
        /// A CSV column of the object's row.
        case column(String)
        /// A CSV column in milliseconds, exported in seconds (HAProxy's *_time_* metrics).
        case milliseconds(String)
        /// One series per state label, 1 for the object's state and 0 for the others.
        case state([String])
        /// One series per HTTP status class (`code` label), from hrsp_1xx ... hrsp_other.
        case responses
        /// 1 when the object is up (sluice's `backend_up`), else 0.
        case up
    }

    let name: String
    let help: String
    let kind: Kind
    let source: Source

    init(_ name: String, _ kind: Kind, _ source: Source, _ help: String) {
        self.name = name
        self.kind = kind
        self.source = source
        self.help = help
    }
}

/// The exporter's metric tables and renderer.
enum PrometheusExporter {
    /// `Content-Type` of the answer.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static let processMetrics: [PrometheusMetric] = [
        .init("nbthread", .gauge, .info("Nbthread"), "Number of started threads (global.nbthread)"),
        .init("nbproc", .gauge, .info("Nbproc"), "Number of started worker processes (historical, always 1)"),
        .init("relative_process_id", .gauge, .info("Process_num"), "Relative worker process number (1)"),
        .init("uptime_seconds", .gauge, .info("Uptime_sec"), "How long ago this worker process was started (seconds)"),
        .init("max_fds", .gauge, .info("Ulimit-n"), "Hard limit on the number of per-process file descriptors"),
        .init("max_sockets", .gauge, .info("Maxsock"), "Hard limit on the number of per-process sockets"),
        .init(
            "max_connections",
            .gauge,
            .info("Maxconn"),
            "Hard limit on the number of per-process connections (configured or imposed by Ulimit-n)"
        ),
        .init(
            "hard_max_connections",
            .gauge,
            .info("Hard_maxconn"),
            "Hard limit on the number of per-process connections (imposed by Memmax_MB or Ulimit-n)"
        ),
        .init(
            "current_connections",
            .gauge,
            .info("CurrConns"),
            "Current number of connections on this worker process"
        ),
        .init(
            "connections_total",
            .counter,
            .info("CumConns"),
            "Total number of connections on this worker process since started"
        ),
        .init(
            "requests_total",
            .counter,
            .info("CumReq"),
            "Total number of requests on this worker process since started"
        ),
        .init(
            "current_connection_rate",
            .gauge,
            .info("ConnRate"),
            "Number of front connections created on this worker process over the last second"
        ),
        .init(
            "limit_connection_rate",
            .gauge,
            .info("ConnRateLimit"),
            "Hard limit for ConnRate (global.maxconnrate)"
        ),
        .init(
            "max_connection_rate",
            .gauge,
            .info("MaxConnRate"),
            "Highest ConnRate reached on this worker process since started (in connections per second)"
        ),
        .init(
            "current_session_rate",
            .gauge,
            .info("SessRate"),
            "Number of sessions created on this worker process over the last second"
        ),
        .init("limit_session_rate", .gauge, .info("SessRateLimit"), "Hard limit for SessRate (global.maxsessrate)"),
        .init(
            "max_session_rate",
            .gauge,
            .info("MaxSessRate"),
            "Highest SessRate reached on this worker process since started (in sessions per second)"
        ),
        .init(
            "current_tasks",
            .gauge,
            .info("Tasks"),
            "Total number of tasks in the current worker process (active + sleeping)"
        ),
        .init(
            "current_run_queue",
            .gauge,
            .info("Run_queue"),
            "Total number of active tasks+tasklets in the current worker process"
        ),
        .init("stopping", .gauge, .info("Stopping"), "1 if the worker process is currently stopping, otherwise zero"),
        .init(
            "jobs",
            .gauge,
            .info("Jobs"),
            "Current number of active jobs on the current worker process (frontend connections, master connections, listeners)"
        ),
        .init(
            "unstoppable_jobs",
            .gauge,
            .info("Unstoppable Jobs"),
            "Current number of unstoppable jobs on the current worker process (master connections)"
        ),
        .init(
            "listeners",
            .gauge,
            .info("Listeners"),
            "Current number of active listeners on the current worker process"
        ),
        .init(
            "bytes_out_total",
            .counter,
            .info("TotalBytesOut"),
            "Total number of bytes emitted by current worker process since started"
        ),
        .init("start_time_seconds", .gauge, .info("Start_time_sec"), "Start time in seconds"),
    ]

    /// The metrics frontends, backends and servers share, each defined once (the lists below pick them by name).
    private static let sharedMetrics: [String: PrometheusMetric] = {
        let all: [PrometheusMetric] = [
            .init(
                "current_sessions",
                .gauge,
                .column("scur"),
                "Number of current sessions on the frontend, backend or server"
            ),
            .init(
                "max_sessions",
                .gauge,
                .column("smax"),
                "Highest value of current sessions encountered since process started"
            ),
            .init("limit_sessions", .gauge, .column("slim"), "Frontend/listener/server's maxconn, backend's fullconn"),
            .init("sessions_total", .counter, .column("stot"), "Total number of sessions since process started"),
            .init("bytes_in_total", .counter, .column("bin"), "Total number of request bytes since process started"),
            .init("bytes_out_total", .counter, .column("bout"), "Total number of response bytes since process started"),
            .init(
                "requests_denied_total",
                .counter,
                .column("dreq"),
                "Total number of denied requests since process started"
            ),
            .init(
                "responses_denied_total",
                .counter,
                .column("dresp"),
                "Total number of denied responses since process started"
            ),
            .init(
                "max_session_rate",
                .gauge,
                .column("rate_max"),
                "Highest value of sessions per second observed since the worker process started"
            ),
            .init(
                "http_responses_total",
                .counter,
                .responses,
                "Total number of HTTP responses with status 100-199 returned by this object since the worker process started"
            ),
            .init(
                "http_requests_total",
                .counter,
                .column("req_tot"),
                "Total number of HTTP requests processed by this object since the worker process started"
            ),
            .init(
                "failed_header_rewriting_total",
                .counter,
                .column("wrew"),
                "Total number of failed HTTP header rewrites since the worker process started"
            ),
            .init(
                "internal_errors_total",
                .counter,
                .column("eint"),
                "Total number of internal errors since process started"
            ),
            .init("current_queue", .gauge, .column("qcur"), "Number of current queued connections"),
            .init(
                "max_queue",
                .gauge,
                .column("qmax"),
                "Highest value of queued connections encountered since process started"
            ),
            .init(
                "connection_errors_total",
                .counter,
                .column("econ"),
                "Total number of failed connections to server since the worker process started"
            ),
            .init(
                "response_errors_total",
                .counter,
                .column("eresp"),
                "Total number of invalid responses since the worker process started"
            ),
            .init(
                "retry_warnings_total",
                .counter,
                .column("wretr"),
                "Total number of server connection retries since the worker process started"
            ),
            .init(
                "redispatch_warnings_total",
                .counter,
                .column("wredis"),
                "Total number of server redispatches due to connection failures since the worker process started"
            ),
            .init(
                "weight",
                .gauge,
                .column("weight"),
                "Server's effective weight, or sum of active servers' effective weights for a backend"
            ),
            .init(
                "check_last_change_seconds",
                .gauge,
                .column("lastchg"),
                "How long ago the last server state changed, in seconds"
            ),
            .init(
                "loadbalanced_total",
                .counter,
                .column("lbtot"),
                "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)"
            ),
            .init(
                "client_aborts_total",
                .counter,
                .column("cli_abrt"),
                "Total number of requests or connections aborted by the client since the worker process started"
            ),
            .init(
                "server_aborts_total",
                .counter,
                .column("srv_abrt"),
                "Total number of requests or connections aborted by the server since the worker process started"
            ),
            .init(
                "last_session_seconds",
                .gauge,
                .column("lastsess"),
                "How long ago some traffic was seen on this object on this worker process, in seconds"
            ),
            .init(
                "uweight",
                .gauge,
                .column("uweight"),
                "Server's user weight, or sum of active servers' user weights for a backend"
            ),
        ]
        return Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
    }()

    /// The metrics named `names`, in order: the section's `own` definitions first, then the shared ones.
    private static func metrics(_ names: [String], own: [PrometheusMetric] = []) -> [PrometheusMetric] {
        names.map { name in
            guard let metric = own.first(where: { $0.name == name }) ?? sharedMetrics[name] else {
                preconditionFailure("no Prometheus metric named '\(name)'")
            }
            return metric
        }
    }

    static let frontendMetrics: [PrometheusMetric] = metrics(
        [
            "status", "current_sessions", "max_sessions", "limit_sessions", "sessions_total", "bytes_in_total",
            "bytes_out_total", "requests_denied_total", "responses_denied_total", "request_errors_total",
            "limit_session_rate", "max_session_rate", "http_responses_total", "http_requests_rate_max",
            "http_requests_total", "connections_rate_max", "connections_total", "intercepted_requests_total",
            "denied_connections_total", "denied_sessions_total", "failed_header_rewriting_total",
            "internal_errors_total",
        ],
        own: [
            .init("status", .gauge, .state(["DOWN", "UP"]), "Current status of the service, per state label value."),
            .init(
                "request_errors_total",
                .counter,
                .column("ereq"),
                "Total number of invalid requests since process started"
            ),
            .init(
                "limit_session_rate",
                .gauge,
                .column("rate_lim"),
                "Limit on the number of sessions accepted in a second (frontend only, 'rate-limit sessions' setting)"
            ),
            .init(
                "http_requests_rate_max",
                .gauge,
                .column("req_rate_max"),
                "Highest value of http requests observed since the worker process started"
            ),
            .init(
                "connections_rate_max",
                .gauge,
                .column("conn_rate_max"),
                "Highest value of connections per second observed since the worker process started"
            ),
            .init(
                "connections_total",
                .counter,
                .column("conn_tot"),
                "Total number of new connections accepted on this frontend since the worker process started"
            ),
            .init(
                "intercepted_requests_total",
                .counter,
                .column("intercepted"),
                "Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process started"
            ),
            .init(
                "denied_connections_total",
                .counter,
                .column("dcon"),
                "Total number of incoming connections blocked on a listener/frontend by a tcp-request connection rule since the worker process started"
            ),
            .init(
                "denied_sessions_total",
                .counter,
                .column("dses"),
                "Total number of incoming sessions blocked on a listener/frontend by a tcp-request connection rule since the worker process started"
            ),
        ]
    )

    /// What backends and servers both export: connection attempts and reuses, and the time averages and maxima
    /// (CSV qtime ... ttime_max, exported in seconds).
    static let backendAndServerMetrics: [PrometheusMetric] = [
        .init("connection_attempts_total", .counter, .column("connect"), "Total number of connection establishment attempts since the worker process started"),
        .init("connection_reuses_total", .counter, .column("reuse"), "Total number of connection reuses since the worker process started"),
        .init("queue_time_average_seconds", .gauge, .milliseconds("qtime"), "Avg. queue time for last 1024 successful connections."),
        .init("connect_time_average_seconds", .gauge, .milliseconds("ctime"), "Avg. connect time for last 1024 successful connections."),
        .init("response_time_average_seconds", .gauge, .milliseconds("rtime"), "Avg. response time for last 1024 successful connections."),
        .init("total_time_average_seconds", .gauge, .milliseconds("ttime"), "Avg. total time for last 1024 successful connections."),
        .init("max_queue_time_seconds", .gauge, .milliseconds("qtime_max"), "Maximum observed time spent in the queue"),
        .init("max_connect_time_seconds", .gauge, .milliseconds("ctime_max"), "Maximum observed waiting time for a connection to complete"),
        .init("max_response_time_seconds", .gauge, .milliseconds("rtime_max"), "Maximum observed response time to an HTTP request"),
        .init("max_total_time_seconds", .gauge, .milliseconds("ttime_max"), "Maximum observed total request+response time (request+queue+connect+response+processing)"),
    ]

    static let backendMetrics: [PrometheusMetric] = backendAndServerMetrics + metrics(
        [
            "current_queue", "max_queue", "current_sessions", "max_sessions", "limit_sessions", "sessions_total",
            "bytes_in_total", "bytes_out_total", "requests_denied_total", "responses_denied_total",
            "connection_errors_total", "response_errors_total", "retry_warnings_total", "redispatch_warnings_total",
            "status", "up", "weight", "active_servers", "backup_servers", "check_last_change_seconds",
            "loadbalanced_total", "max_session_rate", "http_requests_total", "http_responses_total",
            "client_aborts_total", "server_aborts_total", "last_session_seconds", "failed_header_rewriting_total",
            "internal_errors_total", "uweight",
        ],
        own: [
            .init("status", .gauge, .state(["DOWN", "UP"]), "Current status of the service, per state label value."),
            .init("up", .gauge, .up, "1 when the backend has a server that can take traffic, 0 otherwise (sluice)"),
            .init("active_servers", .gauge, .column("act"), "Total number of active UP servers with a non-zero weight"),
            .init("backup_servers", .gauge, .column("bck"), "Total number of backup UP servers with a non-zero weight"),
        ]
    )

    static let serverMetrics: [PrometheusMetric] = backendAndServerMetrics + metrics(
        [
            "current_queue", "max_queue", "current_sessions", "max_sessions", "limit_sessions", "sessions_total",
            "bytes_in_total", "bytes_out_total", "responses_denied_total", "connection_errors_total",
            "response_errors_total", "retry_warnings_total", "redispatch_warnings_total", "status", "weight",
            "check_last_change_seconds", "check_failures_total", "check_up_down_total", "downtime_seconds_total",
            "loadbalanced_total", "max_session_rate", "http_responses_total", "client_aborts_total",
            "server_aborts_total", "last_session_seconds", "failed_header_rewriting_total", "internal_errors_total",
            "idle_connections_current", "used_connections_current", "uweight",
        ],
        own: [
            .init(
                "status",
                .gauge,
                .state(["DOWN", "UP", "MAINT", "DRAIN", "NOLB"]),
                "Current status of the service, per state label value."
            ),
            .init(
                "check_failures_total",
                .counter,
                .column("chkfail"),
                "Total number of failed individual health checks per server/backend, since the worker process started"
            ),
            .init(
                "check_up_down_total",
                .counter,
                .column("chkdown"),
                "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started"
            ),
            .init(
                "downtime_seconds_total",
                .counter,
                .column("downtime"),
                "Total downtime (in seconds) for the service"
            ),
            .init(
                "idle_connections_current",
                .gauge,
                .column("idle_conn_cur"),
                "Current number of idle connections available for reuse on this server"
            ),
            .init("used_connections_current", .gauge, .column("used_conn_cur"), "Current number of connections in use"),
        ]
    )

    /// The whole exposition: process metrics from `info`, then frontend, backend and server metrics from `rows`.
    /// `version` labels `sluice_process_build_info`.
    static func render(info: [(name: String, value: String)], rows: [StatsRow], version: String) -> String {
        var out = ""
        var values: [String: String] = [:]
        for (name, value) in info { values[name] = value }
        for m in processMetrics {
            guard case .info(let field) = m.source, let v = values[field], let number = Self.number(v) else { continue }
            header(&out, "sluice_process_\(m.name)", m)
            out += "sluice_process_\(m.name) \(number)\n"
        }
        out += "# HELP sluice_process_build_info Build info\n# TYPE sluice_process_build_info gauge\n"
        out += "sluice_process_build_info{version=\"\(escape(version))\"} 1\n"
        section(&out, "frontend", frontendMetrics, rows.filter { $0.kind == .frontend })
        section(&out, "backend", backendMetrics, rows.filter { $0.kind == .backend })
        section(&out, "server", serverMetrics, rows.filter { $0.kind == .server })
        return out
    }

    private static func section(_ out: inout String, _ scope: String, _ metrics: [PrometheusMetric], _ rows: [StatsRow])
    {
        for m in metrics {
            let name = "sluice_\(scope)_\(m.name)"
            var series = ""
            for row in rows {
                var labels = "proxy=\"\(escape(row.proxy))\""
                if row.kind == .server { labels += ",server=\"\(escape(row.service))\"" }
                switch m.source {
                case .info:
                    continue
                case .column(let column):
                    guard let number = Self.number(row[column]) else { continue }
                    series += "\(name){\(labels)} \(number)\n"
                case .milliseconds(let column):
                    guard let ms = Int(row[column]) else { continue }
                    series += "\(name){\(labels)} \(Self.seconds(milliseconds: ms))\n"
                case .state(let states):
                    let current = stateLabel(row)
                    for s in states { series += "\(name){\(labels),state=\"\(s)\"} \(s == current ? 1 : 0)\n" }
                case .responses:
                    for (code, column) in [
                        ("1xx", "hrsp_1xx"), ("2xx", "hrsp_2xx"), ("3xx", "hrsp_3xx"),
                        ("4xx", "hrsp_4xx"), ("5xx", "hrsp_5xx"), ("other", "hrsp_other"),
                    ] {
                        guard let number = Self.number(row[column]) else { continue }
                        series += "\(name){\(labels),code=\"\(code)\"} \(number)\n"
                    }
                case .up:
                    series += "\(name){\(labels)} \(stateLabel(row) == "UP" ? 1 : 0)\n"
                }
            }
            if series.isEmpty { continue }
            header(&out, name, m)
            out += series
        }
    }

    private static func header(_ out: inout String, _ name: String, _ m: PrometheusMetric) {
        out += "# HELP \(name) \(m.help)\n# TYPE \(name) \(m.kind.rawValue)\n"
    }

    /// The state label of a row: frontends OPEN/FULL are UP; servers "no check" are UP.
    static func stateLabel(_ row: StatsRow) -> String {
        switch row["status"] {
        case "OPEN", "FULL", "UP", "no check": return "UP"
        case "MAINT": return "MAINT"
        case "DRAIN": return "DRAIN"
        case "NOLB": return "NOLB"
        default: return "DOWN"
        }
    }

    /// `1234` ms as `1.234`, `5` as `0.005` (no floating point: exact decimal text).
    static func seconds(milliseconds ms: Int) -> String {
        let fraction = String(ms % 1000)
        return "\(ms / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// A CSV value as a sample value, nil when empty or not a number.
    static func number(_ text: String) -> String? {
        guard !text.isEmpty, Int(text) != nil else { return nil }
        return text
    }

    /// Label value escaping of the exposition format: backslash, double quote and newline.
    static func escape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out
    }
}
