// SPDX-License-Identifier: Apache-2.0
// The HTTP part of the model: connection mode, server-connection reuse, `option forwardfor`, error files,
// log-format strings, and `http-request` / `http-response` rules (the old `redirect` keyword becomes an http-request
// redirect rule, as in HAProxy 2.x). Values only; files named here were read while loading.

/// `option http-keep-alive|http-server-close|httpclose` (one setting per proxy, default keep-alive). The runtime
/// combines the frontend's and the backend's as HAProxy does: the more closing of the two wins
/// (httpclose > http-server-close > http-keep-alive).
public enum HTTPConnectionMode: String, Sendable, Equatable {
    case keepAlive = "http-keep-alive"
    case serverClose = "http-server-close"
    case close = "httpclose"
}

/// `http-reuse` (backend side): which idle server connections a request may use. Default `.safe`.
public enum HTTPReuse: String, Sendable, Equatable {
    case never
    case safe
    /// HAProxy: like `always`, but only connections that already served a request are shared for a first request.
    /// Kept distinct; a runtime without that distinction may treat it as `.always`.
    case aggressive
    case always
}

/// `option forwardfor [except <network>] [header <name>] [if-none]`.
public struct ForwardFor: Sendable, Equatable {
    /// Clients in this network get no header; normalized like ACL IP patterns (`10.0.0.0/8`, `::1`, `fd00::/8`).
    public var exceptNetwork: String?
    /// Header name; default `X-Forwarded-For`.
    public var headerName = "X-Forwarded-For"
    /// `if-none`: add the header only when the request has none.
    public var onlyIfNone = false
    public var location: SourceLocation

    public init(location: SourceLocation) {
        self.location = location
    }
}

/// `errorfile <code> <file>`: the full HTTP response sent instead of sluice's own page for that status.
public struct ErrorFile: Sendable, Equatable {
    /// One of 200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504.
    public var status: Int
    /// As written (relative paths are relative to the working directory, as in HAProxy).
    public var path: String
    /// The file's bytes, read at load: a complete HTTP/1.x response. Empty (e.g. `/dev/null`) means "close without
    /// answering".
    public var response: [UInt8]
    public var location: SourceLocation

    public init(status: Int, path: String, response: [UInt8], location: SourceLocation) {
        self.status = status
        self.path = path
        self.response = response
        self.location = location
    }
}

/// A variable of a log-format string (`%ci`); the ones sluice evaluates.
public enum LogFormatVariable: String, Sendable, Equatable {
    case clientIP = "ci"
    case clientPort = "cp"
    case frontendIP = "fi"
    case frontendPort = "fp"
    case frontendName = "f"
    case backendName = "b"
    /// The machine's host name.
    case hostname = "H"
    case pid
    /// HTTP method.
    case method = "HM"
    /// Request URI without the query string.
    case path = "HP"
    /// The query string with its `?` (empty when there is none).
    case query = "HQ"
    /// Request URI.
    case uri = "HU"
    /// `HTTP/1.1`.
    case httpVersion = "HV"
}

/// A log-format string used as a header value, redirect target, path or payload: literal text, samples
/// (`%[req.hdr(host),lower]`) and variables (`%ci`), concatenated per request. `%%` is a literal `%`.
public struct LogFormat: Sendable, Equatable {
    public enum Part: Sendable, Equatable {
        case literal(String)
        case sample(SampleExpression)
        case variable(LogFormatVariable)
    }

    /// Adjacent literals are merged; an empty string has no part.
    public var parts: [Part]
    /// The string as written in the file.
    public var text: String

    public init(parts: [Part], text: String) {
        self.parts = parts
        self.text = text
    }

    /// A string without any `%`: one literal part.
    public init(literal: String) {
        self.parts = literal.isEmpty ? [] : [.literal(literal)]
        self.text = literal
    }

    /// True when the string has no sample and no variable (its value is `text` with `%%` unescaped).
    public var isConstant: Bool {
        parts.allSatisfy {
            if case .literal = $0 { return true }
            return false
        }
    }
}

/// One header field to add to a generated response (`hdr <name> <fmt>`).
public struct HTTPHeaderField: Sendable, Equatable {
    public var name: String
    public var value: LogFormat

    public init(name: String, value: LogFormat) {
        self.name = name
        self.value = value
    }
}

/// A header edit, shared by http-request and http-response rules. Header names compare case-insensitively.
public enum HTTPHeaderAction: Sendable, Equatable {
    /// `set-header <name> <fmt>`: remove every `<name>` field, then add one with the value.
    case set(name: String, value: LogFormat)
    /// `add-header <name> <fmt>`: add a field, keeping existing ones.
    case add(name: String, value: LogFormat)
    /// `del-header <name> [-m str|beg|end|sub|reg]`: remove every field whose name matches (`.exact` by default;
    /// `.regex` is POSIX extended, case-insensitive).
    case delete(name: String, method: MatchMethod)
    /// `replace-header <name> <regex> <fmt>`: in each `<name>` field whose whole value matches `<regex>` (POSIX
    /// extended), the value becomes `<fmt>`, where `\1`..`\9` name the regex's groups.
    case replaceHeader(name: String, regex: String, replacement: LogFormat)
    /// `replace-value <name> <regex> <fmt>`: the same, applied to each comma-separated value of the field.
    case replaceValue(name: String, regex: String, replacement: LogFormat)
}

/// The response of `http-request deny|return` and `http-response deny`.
public struct HTTPReply: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        /// No payload (`return` without a body option): status line and `headers` only.
        case empty
        /// The proxy's `errorfile` for `status`, else sluice's built-in page for it (`deny`'s default, or
        /// `default-errorfiles`). `status` is one of the codes `errorfile` accepts.
        case defaultErrorFile
        /// `errorfile <file>`: a complete HTTP response read at load; `contentType` and `headers` are unused.
        case errorFile(path: String, response: [UInt8])
        /// `string <str>` or `file <file>` (read at load): the payload, sent with `contentType`.
        case payload([UInt8])
        /// `lf-string <fmt>` or `lf-file <file>` (read at load): a payload evaluated per request.
        case logFormat(LogFormat)
    }

    /// 200 for `return`, 403 for `http-request deny`, 502 for `http-response deny` unless set.
    public var status: Int
    /// `content-type <type>`; set whenever the body is a non-empty payload.
    public var contentType: String?
    public var body: Body
    /// `hdr <name> <fmt>` fields, in order (unused with an error file).
    public var headers: [HTTPHeaderField]

    public init(status: Int, contentType: String? = nil, body: Body, headers: [HTTPHeaderField] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }
}

/// `http-request redirect ...` and the `redirect` keyword.
public struct HTTPRedirect: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// `Location:` is the value.
        case location
        /// `Location:` is the value followed by the request URI (nothing inserted when the value is `/`).
        case prefix
        /// `Location:` is `<value>://<first Host header><URI>` (`/` when the URI is empty or `*`).
        case scheme
    }

    public var kind: Kind
    /// A log-format string with `http-request redirect`; constant text with the `redirect` keyword.
    public var value: LogFormat
    /// 301, 302 (default), 303, 307 or 308.
    public var code = 302
    /// `drop-query`: the URI is used without its query string (prefix and scheme redirects).
    public var dropsQuery = false
    /// `append-slash`: with `drop-query`, a `/` is appended to a URI that does not end with one.
    public var appendsSlash = false
    /// `ignore-empty`: the rule does nothing when the value evaluates to an empty string.
    public var ignoresEmpty = false
    /// `set-cookie NAME[=value]` as written: a `Set-Cookie` field with it.
    public var setCookie: String?
    /// `clear-cookie NAME[=]` as written: a `Set-Cookie` field with it and `Max-Age=0`.
    public var clearCookie: String?

    public init(kind: Kind, value: LogFormat) {
        self.kind = kind
        self.value = value
    }
}

/// Services `http-request use-service` can hand a request to.
public enum HTTPService: String, Sendable, Equatable {
    /// Prometheus metrics of the process, frontends, backends and servers.
    case prometheusExporter = "prometheus-exporter"
}

/// One `http-request <action> [if|unless <cond>]` line (and each `redirect` line), evaluated in file order after
/// the request headers arrived; `allow`, `deny`, `return`, `redirect` and `use-service` stop the evaluation.
public struct HTTPRequestRule: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Stop evaluating http-request rules; the request goes on.
        case allow
        /// Reject with the reply (status 403 by default).
        case deny(HTTPReply)
        /// `return`: answer with the reply without contacting a server.
        case reply(HTTPReply)
        case redirect(HTTPRedirect)
        case header(HTTPHeaderAction)
        /// `set-path <fmt>`: replace the path, keeping the query string.
        case setPath(LogFormat)
        /// `set-query <fmt>`: replace the query string (without `?`; empty removes it).
        case setQuery(LogFormat)
        /// `set-uri <fmt>`: replace the whole request URI.
        case setURI(LogFormat)
        case useService(HTTPService)
    }

    public var action: Action
    public var condition: Condition?
    public var location: SourceLocation

    public init(action: Action, condition: Condition?, location: SourceLocation) {
        self.action = action
        self.condition = condition
        self.location = location
    }
}

/// One `http-response <action> [if|unless <cond>]` line, evaluated in file order once the response headers arrived.
public struct HTTPResponseRule: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Stop evaluating http-response rules.
        case allow
        /// Replace the response with the reply (status 502 by default).
        case deny(HTTPReply)
        case header(HTTPHeaderAction)
    }

    public var action: Action
    public var condition: Condition?
    public var location: SourceLocation

    public init(action: Action, condition: Condition?, location: SourceLocation) {
        self.action = action
        self.condition = condition
        self.location = location
    }
}
