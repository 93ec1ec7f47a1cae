// SPDX-License-Identifier: Apache-2.0
// StatsCSV: HAProxy 2.6's statistics CSV (`show stat`, the stats page with `;csv`): the exact column list and
// order of 2.6 (the base fields, the `-` separator, then the ssl/h2/h1 module fields), one row per frontend,
// server and backend, every line ending with a comma as HAProxy's. Fields sluice does not know stay empty.
// Rendering only: the values come from StatsSnapshot. Not on the hot path.

/// One line of the CSV: a FRONTEND, BACKEND or server row, its values by column.
struct StatsRow: Equatable {
    /// The `type` column: 0 frontend, 1 backend, 2 server (3, listener, is not produced).
    enum Kind: Int {
        case frontend = 0
        case backend = 1
        case server = 2
    }

    let kind: Kind
    private(set) var values: [String]

    /// A row with pxname, svname, type and the module separator set, every other column empty.
    init(kind: Kind, proxy: String, service: String) {
        self.kind = kind
        values = [String](repeating: "", count: StatsCSV.columns.count)
        self["pxname"] = proxy
        self["svname"] = service
        self["type"] = String(kind.rawValue)
        self["-"] = "-"
    }

    /// The value of `column` (one of StatsCSV.columns; any other name is a programming error).
    subscript(column: String) -> String {
        get { values[StatsCSV.index(of: column)] }
        set { values[StatsCSV.index(of: column)] = newValue }
    }

    /// Sets a numeric column.
    subscript(int column: String) -> Int? {
        get { Int(self[column]) }
        set { self[column] = newValue.map { String($0) } ?? "" }
    }

    /// Server addresses and balance algorithms are for operators and admins: HAProxy leaves them out of the
    /// stats page and of a `level user` socket's `show stat` (its "legends").
    static func hideLegends(_ rows: inout [StatsRow]) {
        for i in rows.indices {
            rows[i]["addr"] = ""
            rows[i]["algo"] = ""
        }
    }

    var proxy: String { values[0] }
    var service: String { values[1] }
}

/// The CSV format itself.
enum StatsCSV {
    /// HAProxy 2.6's columns, in order: the base statistics, `-`, then the ssl, h2 and h1 module statistics.
    static let columns: [String] = [
        "pxname", "svname", "qcur", "qmax", "scur", "smax", "slim", "stot",
        "bin", "bout", "dreq", "dresp", "ereq", "econ", "eresp", "wretr",
        "wredis", "status", "weight", "act", "bck", "chkfail", "chkdown", "lastchg",
        "downtime", "qlimit", "pid", "iid", "sid", "throttle", "lbtot", "tracked",
        "type", "rate", "rate_lim", "rate_max", "check_status", "check_code", "check_duration", "hrsp_1xx",
        "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other", "hanafail", "req_rate", "req_rate_max",
        "req_tot", "cli_abrt", "srv_abrt", "comp_in", "comp_out", "comp_byp", "comp_rsp", "lastsess",
        "last_chk", "last_agt", "qtime", "ctime", "rtime", "ttime", "agent_status", "agent_code",
        "agent_duration", "check_desc", "agent_desc", "check_rise", "check_fall", "check_health", "agent_rise",
        "agent_fall", "agent_health", "addr", "cookie", "mode", "algo", "conn_rate", "conn_rate_max", "conn_tot",
        "intercepted", "dcon", "dses", "wrew", "connect", "reuse", "cache_lookups", "cache_hits",
        "srv_icur", "src_ilim", "qtime_max", "ctime_max", "rtime_max", "ttime_max", "eint", "idle_conn_cur",
        "safe_conn_cur", "used_conn_cur", "need_conn_est", "uweight", "agg_server_status",
        "agg_server_check_status", "agg_check_status", "-",
        "ssl_sess", "ssl_reused_sess", "ssl_failed_handshake", "h2_headers_rcvd", "h2_data_rcvd",
        "h2_settings_rcvd", "h2_rst_stream_rcvd", "h2_goaway_rcvd", "h2_detected_conn_protocol_errors",
        "h2_detected_strm_protocol_errors", "h2_rst_stream_resp", "h2_goaway_resp", "h2_open_connections",
        "h2_backend_open_streams", "h2_total_connections", "h2_backend_total_streams",
        "h1_open_connections", "h1_open_streams", "h1_total_connections", "h1_total_streams", "h1_bytes_in",
        "h1_bytes_out", "h1_spliced_bytes_in", "h1_spliced_bytes_out",
    ]

    private static let positions: [String: Int] = {
        var map: [String: Int] = [:]
        for (i, name) in columns.enumerated() { map[name] = i }
        return map
    }()

    /// The position of `column`; traps on a name that is not a column (a typo in sluice, never input).
    static func index(of column: String) -> Int {
        guard let i = positions[column] else { preconditionFailure("no CSV column named '\(column)'") }
        return i
    }

    /// `# pxname,svname,...,` (HAProxy ends the header and every row with a comma).
    static var header: String { "# " + columns.joined(separator: ",") + "," }

    /// One row as a CSV line (no newline). Commas and newlines in names cannot occur (config names are tokens).
    static func line(_ row: StatsRow) -> String { row.values.joined(separator: ",") + "," }

    /// The whole document: the header, one line per row, each ending with a newline.
    static func render(_ rows: [StatsRow]) -> String {
        var text = header + "\n"
        for row in rows { text += line(row) + "\n" }
        return text
    }
}
