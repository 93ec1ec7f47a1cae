// SPDX-License-Identifier: Apache-2.0
// BodyLength: how a message body is delimited, decided from a parsed head (RFC 9112 §6.3) and, for a response,
// from the request it answers. The single place where HEAD, 1xx, 204, 304, CONNECT and 101 are special-cased.

/// How the body of a message is delimited.
public enum BodyLength: Sendable, Equatable {
    /// No body: the next message starts right after the head.
    case none
    /// Exactly this many bytes (0 is possible: the framer is done at once).
    case contentLength(Int64)
    /// Chunked transfer coding, trailers included; the framer finds its end.
    case chunked
    /// Everything until the server closes the connection (responses only).
    case untilClose
    /// After this head the connection is a byte tunnel both ways, for as long as it lasts: a 2xx answer to
    /// CONNECT, or `101 Switching Protocols` (the proxy checks that the request asked for an Upgrade).
    case tunnel
}

extension HTTPHead {
    /// The body length of a parsed request: chunked when Transfer-Encoding ends with chunked (the only accepted
    /// case), else Content-Length, else no body (RFC 9112 §6.3 rule 6). CONNECT has none (the parser refused
    /// any body on it); what follows a successful CONNECT is tunnel data.
    public func requestBodyLength() -> BodyLength {
        if method == .connect { return .none }
        if isChunked { return .chunked }
        if let contentLength { return .contentLength(contentLength) }
        return .none
    }

    /// The body length of a parsed response to a request with `requestMethod` (RFC 9112 §6.3): `.tunnel` for
    /// 101 and for a 2xx to CONNECT; `.none` for other 1xx (interim: the final response follows), 204, 304 and
    /// any answer to HEAD; then chunked, Content-Length, and otherwise until close (including a
    /// Transfer-Encoding whose last coding is not chunked).
    public func responseBodyLength(requestMethod: HTTPMethod) -> BodyLength {
        if status == 101 { return .tunnel }
        if requestMethod == .connect && status >= 200 && status < 300 { return .tunnel }
        if status < 200 || status == 204 || status == 304 || requestMethod == .head { return .none }
        if isChunked { return .chunked }
        if hasTransferEncoding { return .untilClose }
        if let contentLength { return .contentLength(contentLength) }
        return .untilClose
    }

    /// True for a 1xx response other than 101: it is followed by the final response to the same request.
    public var isInterimResponse: Bool {
        !isRequest && status >= 100 && status < 200 && status != 101
    }
}
