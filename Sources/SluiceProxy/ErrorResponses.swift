// SPDX-License-Identifier: Apache-2.0
// ErrorResponses: the responses sluice writes itself, as complete HTTP/1.1 messages prepared once per proxy:
// HAProxy's status lines and small HTML bodies (400, 403, 404, 408, 500, 502, 503, 504, ...), replaced by the
// bytes of an `errorfile` when the proxy has one. Sending one never allocates.

/// Prebuilt error responses of one proxy. Immutable.
struct ErrorResponses {
    /// Status -> complete message bytes (status line, headers, body), with `connection: close`: the built-in
    /// texts (rendered once for the process: 1,000 backends must not render them 1,000 times), then `errorfile`s.
    private var messages: [Int: [UInt8]] = Self.builtInMessages.close
    /// The same without `connection: close`, for answers after which the connection stays (deny, return).
    private var keepAliveMessages: [Int: [UInt8]] = Self.builtInMessages.keepAlive

    /// HAProxy's texts, rendered once.
    private static let builtInMessages: (close: [Int: [UInt8]], keepAlive: [Int: [UInt8]]) = {
        var close: [Int: [UInt8]] = [:]
        var keepAlive: [Int: [UInt8]] = [:]
        for e in builtIn {
            let body = Array("<html><body><h1>\(e.status) \(e.reason)</h1>\n\(e.text)\n</body></html>\n".utf8)
            close[e.status] = render(status: e.status, reason: e.reason, contentType: "text/html", body: body,
                extraHeaders: "cache-control: no-cache\r\n", close: true)
            keepAlive[e.status] = render(status: e.status, reason: e.reason, contentType: "text/html", body: body,
                extraHeaders: "cache-control: no-cache\r\n", close: false)
        }
        return (close, keepAlive)
    }()

    /// HAProxy 2.6's built-in texts.
    static let builtIn: [(status: Int, reason: String, text: String)] = [
        (200, "OK", "Service ready."),
        (400, "Bad request", "Your browser sent an invalid request."),
        (401, "Unauthorized", "You need a valid user and password to access this content."),
        (403, "Forbidden", "Request forbidden by administrative rules."),
        (404, "Not Found", "The resource could not be found."),
        (405, "Method Not Allowed", "A request was made of a resource using a request method not supported by that resource"),
        (407, "Unauthorized", "You need a valid user and password to access this content."),
        (408, "Request Time-out", "Your browser didn't send a complete request in time."),
        (410, "Gone", "The resource is no longer available and will not be available again."),
        (413, "Payload Too Large", "The request entity exceeds the maximum allowed."),
        (425, "Too Early", "Your browser sent early data."),
        (429, "Too Many Requests", "You have sent too many requests in a given amount of time."),
        (500, "Internal Server Error", "An internal server error occurred."),
        (501, "Not Implemented", "The server does not support the functionality required to fulfill the request."),
        (502, "Bad Gateway", "The server returned an invalid or incomplete response."),
        (503, "Service Unavailable", "No server is available to handle this request."),
        (504, "Gateway Time-out", "The server didn't respond in time."),
    ]

    /// The reason phrase sluice uses for `status` (HAProxy's, or a generic one).
    static func reason(for status: Int) -> String {
        builtIn.first { $0.status == status }?.reason ?? (status < 400 ? "OK" : status < 500 ? "Error" : "Server Error")
    }

    /// Built-in responses, with `errorFiles` (status -> raw bytes of an HTTP response, HAProxy's errorfile format)
    /// taking precedence.
    init(errorFiles: [Int: [UInt8]] = [:]) {
        for (status, bytes) in errorFiles {
            messages[status] = bytes
            keepAliveMessages[status] = bytes
        }
    }

    /// The message for `status`; with `keepAlive`, the variant without `connection: close`.
    func message(for status: Int, keepAlive: Bool) -> [UInt8] {
        if keepAlive, let m = keepAliveMessages[status] { return m }
        return message(for: status)
    }

    /// The message for `status` (a generic one for statuses without a text).
    func message(for status: Int) -> [UInt8] {
        if let m = messages[status] { return m }
        return Self.render(status: status, reason: Self.reason(for: status), contentType: "text/html",
            body: Array("<html><body><h1>\(status) \(Self.reason(for: status))</h1>\n</body></html>\n".utf8),
            extraHeaders: "cache-control: no-cache\r\n", close: true)
    }

    /// A complete response with a body and `content-length`; `close` adds `connection: close`.
    static func render(
        status: Int,
        reason: String,
        contentType: String?,
        body: [UInt8],
        extraHeaders: String = "",
        close: Bool
    ) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(reason)\r\ncontent-length: \(body.count)\r\n"
        if let contentType { head += "content-type: \(contentType)\r\n" }
        head += extraHeaders
        if close { head += "connection: close\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }
}
