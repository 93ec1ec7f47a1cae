// SPDX-License-Identifier: Apache-2.0
// StatsPage: the `stats uri` page of a proxy: which requests it answers (the URI starts with the prefix), HTTP
// Basic authentication against `stats auth` (base64 decoded here: no Foundation), the `;csv`, `;norefresh`,
// `;up` and `;no-maint` options, and the answers themselves (401 with `WWW-Authenticate`, the HTML tables or
// the CSV with `Refresh:`). Answers are built whole when asked for; nothing here runs per forwarded byte.
import SluiceConfig

/// What a request to the stats URI asks for, from the options after the prefix.
struct StatsPageRequest: Equatable {
    var isCSV = false
    var refreshes = true
    var onlyUp = false
    var hidesMaintenance = false

    /// Reads HAProxy's `;csv`, `;norefresh`, `;up` and `;no-maint` anywhere after the prefix.
    init(suffix: String) {
        for option in suffix.split(separator: ";", omittingEmptySubsequences: false).dropFirst() {
            switch option.prefix(while: { $0 != "?" && $0 != "&" && $0 != "/" }) {
            case "csv": isCSV = true
            case "norefresh": refreshes = false
            case "up": onlyUp = true
            case "no-maint": hidesMaintenance = true
            default: break
            }
        }
    }
}

/// Base64 as HTTP Basic authentication carries it (RFC 4648 §4, padding optional).
enum Base64 {
    /// Decodes `text`; nil on any character outside the alphabet or a truncated group.
    static func decode<S: Sequence>(_ text: S) -> [UInt8]? where S.Element == UInt8 {
        var out: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for c in text {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            default:
                return nil
            }
            if padding > 0 { return nil }  // data after padding
            accumulator = (accumulator << 6) | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((accumulator >> UInt32(bits)) & 0xFF))
            }
        }
        // A lone sextet cannot encode a byte; leftover bits must be zero padding.
        if bits >= 6 || padding > 2 { return nil }
        return out
    }
}

extension StatsPage {
    /// True when `target` (the request URI) starts with `stats uri`.
    func matches(_ target: UnsafeRawBufferPointer) -> Bool {
        let prefix = uriPrefix.utf8
        guard target.count >= prefix.count else { return false }
        var i = 0
        for b in prefix {
            if target[i] != b { return false }
            i += 1
        }
        return true
    }

    /// True when no credentials are configured, or `authorization` (the header value) is `Basic` with a
    /// `user:password` that `stats auth` lists.
    func authorizes(_ authorization: UnsafeRawBufferPointer?) -> Bool {
        if credentials.isEmpty { return true }
        guard let authorization else { return false }
        let bytes = Array(authorization)
        guard bytes.count > 6,
            String(decoding: bytes[0..<5], as: UTF8.self).lowercased() == "basic",
            bytes[5] == UInt8(ascii: " ")
        else { return false }
        let encoded = bytes[6...].drop { $0 == UInt8(ascii: " ") }
        guard let decoded = Base64.decode(encoded), let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else {
            return false
        }
        let user = String(decoding: decoded[..<colon], as: UTF8.self)
        let password = String(decoding: decoded[(colon + 1)...], as: UTF8.self)
        return credentials.contains { $0.user == user && $0.password == password }
    }

    /// HAProxy's 401: `WWW-Authenticate: Basic realm="..."` (default realm `HAProxy Statistics`).
    func unauthorizedResponse(close: Bool) -> [UInt8] {
        let body =
            "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n"
            + "</body></html>\n"
        let realm = (realm ?? "HAProxy Statistics").replacingQuote()
        return Array(
            ("HTTP/1.1 401 Unauthorized\r\ncontent-length: \(body.utf8.count)\r\ncache-control: no-cache\r\n"
                + "content-type: text/html\r\nwww-authenticate: Basic realm=\"\(realm)\"\r\n"
                + (close ? "connection: close\r\n" : "") + "\r\n" + body).utf8
        )
    }
}

extension String {
    /// The text with double quotes replaced, for a quoted header parameter.
    fileprivate func replacingQuote() -> String { String(map { $0 == "\"" ? "'" : $0 }) }
}

/// The complete 200 answers the stats page and the Prometheus service send.
enum StatsResponse {
    /// A 200 with `body`, its length, `cache-control: no-cache`, and a `refresh` header when asked.
    static func ok(contentType: String, body: String, refreshSeconds: Int?, close: Bool) -> [UInt8] {
        var head = "HTTP/1.1 200 OK\r\ncontent-length: \(body.utf8.count)\r\ncache-control: no-cache\r\n"
        head += "content-type: \(contentType)\r\n"
        if let refreshSeconds { head += "refresh: \(refreshSeconds)\r\n" }
        if close { head += "connection: close\r\n" }
        return Array((head + "\r\n" + body).utf8)
    }
}

/// The HTML page: one table per proxy (its FRONTEND, servers and BACKEND rows) with the main counters.
enum StatsHTML {
    /// Columns of each table: title and CSV column.
    static let columns: [(title: String, column: String)] = [
        ("Name", "svname"), ("Queue cur", "qcur"), ("Queue max", "qmax"), ("Sessions cur", "scur"),
        ("Sessions max", "smax"), ("Limit", "slim"), ("Total", "stot"), ("Rate", "rate"), ("Bytes in", "bin"),
        ("Bytes out", "bout"), ("Denied req", "dreq"), ("Errors req", "ereq"), ("Errors conn", "econ"),
        ("Errors resp", "eresp"), ("Retr", "wretr"), ("Redis", "wredis"), ("Status", "status"),
        ("LastChk", "lastchg"), ("Wght", "weight"), ("Act", "act"), ("Bck", "bck"),
        ("2xx", "hrsp_2xx"), ("4xx", "hrsp_4xx"), ("5xx", "hrsp_5xx"),
    ]

    /// The page for `rows` (in `show stat` order); `info` gives the process section, `refreshSeconds` the meta
    /// refresh, `version` is nil with `stats hide-version`.
    static func render(
        rows: [StatsRow],
        info: [(name: String, value: String)],
        refreshSeconds: Int?,
        version: String?
    ) -> String {
        var html = "<!DOCTYPE html>\n<html><head><title>Statistics Report for sluice</title>\n"
        html += "<meta charset=\"utf-8\">\n"
        if let refreshSeconds { html += "<meta http-equiv=\"refresh\" content=\"\(refreshSeconds)\">\n" }
        html += """
            <style>
            body { font-family: sans-serif; font-size: 12px; }
            table { border-collapse: collapse; margin-bottom: 1.5em; }
            th, td { border: 1px solid #999; padding: 2px 4px; text-align: right; }
            th.pxname { background: #20a; color: #fff; text-align: left; }
            tr.frontend, tr.backend { background: #eee; font-weight: bold; }
            tr.UP td.status, tr.no_check td.status { background: #cfc; }
            tr.DOWN td.status { background: #fcc; }
            tr.MAINT td.status { background: #ccf; }
            tr.DRAIN td.status { background: #fc8; }
            td.svname { text-align: left; }
            </style></head><body>

            """
        html += "<h1>Statistics Report for sluice\(version.map { " \(escape($0))" } ?? "")</h1>\n"
        html += "<h2>General process information</h2>\n<table class=\"info\">\n"
        for (name, value) in info where ["Pid", "Uptime", "Maxconn", "CurrConns", "CumConns", "CumReq"].contains(name) {
            html += "<tr><th>\(escape(name))</th><td>\(escape(value))</td></tr>\n"
        }
        html += "</table>\n"
        var index = 0
        while index < rows.count {
            let proxy = rows[index].proxy
            var end = index
            while end < rows.count && rows[end].proxy == proxy { end += 1 }
            html += "<table class=\"proxy\" id=\"\(escape(proxy))\">\n"
            html += "<tr><th class=\"pxname\" colspan=\"\(columns.count)\">\(escape(proxy))</th></tr>\n<tr>"
            for c in columns { html += "<th>\(c.title)</th>" }
            html += "</tr>\n"
            for row in rows[index..<end] {
                let kind = row.kind == .frontend ? "frontend" : row.kind == .backend ? "backend" : "server"
                let status = row["status"].replacingOccurrencesOfSpace()
                html += "<tr class=\"\(kind) \(escape(status))\">"
                for c in columns { html += "<td class=\"\(c.column)\">\(escape(row[c.column]))</td>" }
                html += "</tr>\n"
            }
            html += "</table>\n"
            index = end
        }
        html += "</body></html>\n"
        return html
    }

    /// HTML text escaping.
    static func escape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}

extension String {
    /// Spaces as underscores (a status like `no check` as a CSS class).
    fileprivate func replacingOccurrencesOfSpace() -> String { String(map { $0 == " " ? "_" : $0 }) }
}
