// SPDX-License-Identifier: Apache-2.0
// HTTPHead: preallocated storage for one parsed message head, owned by a session and reused for every message.
// It holds offsets into the caller's buffer, never bytes: the header table is allocated once in init, and
// nothing in a parse allocates. Only HTTPHeadParser writes it (through the internal setters below).

/// One header line: offsets of its name and of its value (value without surrounding OWS).
@usableFromInline
struct HeaderEntry {
    @usableFromInline var nameStart: Int32
    @usableFromInline var nameEnd: Int32
    @usableFromInline var valueStart: Int32
    @usableFromInline var valueEnd: Int32
}

/// A parsed request or response head: start line, header table and the framing facts the proxy needs, all as
/// offsets into the buffer that was parsed. Owned by one session and used on the loop thread only; `reset()` or
/// the next parse clears it. The values are meaningful only after a parse returned `.complete`.
public final class HTTPHead {
    /// Capacity of the header table (`tune.http.maxhdr`, 101 by default as in HAProxy).
    public let maxHeaders: Int
    @usableFromInline let headers: UnsafeMutablePointer<HeaderEntry>

    // MARK: Start line

    /// True when the head was parsed as a request, false for a response.
    public internal(set) var isRequest: Bool = true
    /// Offset of the request or status line: the number of bytes of empty lines skipped before it (RFC 9112 §2.2
    /// lets a server ignore them; at most 32 bytes are accepted). Usually 0.
    public internal(set) var messageStart: Int = 0
    /// The request method (requests).
    public internal(set) var method: HTTPMethod = .other
    /// The method's bytes (requests).
    public internal(set) var methodRange: ByteRange = .empty
    /// The whole request-target (requests).
    public internal(set) var target: ByteRange = .empty
    /// The version of the request or response line.
    public internal(set) var version: HTTPVersion = .http11
    /// Absolute-form targets: the scheme (`http`), without `://`. Nil for other forms.
    public internal(set) var schemeRange: ByteRange?
    /// Absolute-form targets: the authority (`host[:port]`); authority-form (CONNECT): the whole target. Nil for
    /// origin-form and asterisk-form. For absolute-form the proxy must use it instead of Host (RFC 9112 §3.2.2).
    public internal(set) var authorityRange: ByteRange?
    /// The path: origin-form `/a/b` of `/a/b?q`; absolute-form the path after the authority (empty when the URI
    /// has none, to be sent as `/`); `*` for asterisk-form; empty for authority-form.
    public internal(set) var pathRange: ByteRange = .empty
    /// The query after `?`, without the `?` (empty when the target ends with `?`); nil when there is no `?`.
    public internal(set) var queryRange: ByteRange?
    /// The status code (responses), 100...599.
    public internal(set) var status: Int = 0
    /// The reason phrase (responses), possibly empty.
    public internal(set) var reasonRange: ByteRange = .empty

    // MARK: Header table

    /// Number of header lines, in the order received; valid indexes for `name(at:)` and `value(at:)`.
    public internal(set) var headerCount: Int = 0
    /// Bytes of the whole head, from the first byte of the buffer (empty lines before the start line included)
    /// to the end of the empty line that closes it: the body or the next message starts at this offset.
    public internal(set) var headLength: Int = 0

    // MARK: Framing summary

    /// The validated Content-Length; nil when absent, and nil when Transfer-Encoding is present too (the length
    /// is then dropped, see `hadContentLengthAndTransferEncoding`).
    public internal(set) var contentLength: Int64?
    /// True when Content-Length came in several lines or as a list (`5, 5`): the values agreed, and the proxy
    /// should forward a single `Content-Length: <contentLength>` instead of the lines received (HAProxy merges).
    public internal(set) var contentLengthNeedsRewrite: Bool = false
    /// True when the message has a Transfer-Encoding header.
    public internal(set) var hasTransferEncoding: Bool = false
    /// True when the last transfer coding is chunked (the body is chunked). A request with Transfer-Encoding is
    /// refused unless this holds; a response without it is read until close.
    public internal(set) var isChunked: Bool = false
    /// True when Content-Length and Transfer-Encoding came together: Content-Length was dropped (the body is
    /// framed by Transfer-Encoding), the proxy must not forward it and must close the server connection after
    /// the response (RFC 9112 §6.3, the request smuggling defence).
    public internal(set) var hadContentLengthAndTransferEncoding: Bool = false
    /// `Connection: close` was present.
    public internal(set) var connectionClose: Bool = false
    /// `Connection: keep-alive` was present.
    public internal(set) var connectionKeepAlive: Bool = false
    /// `Connection: upgrade` was present.
    public internal(set) var connectionUpgrade: Bool = false
    /// An `Upgrade` header was present (a protocol switch is asked for only if `connectionUpgrade` holds too, and
    /// RFC 9110 §7.8 makes a server ignore it in an HTTP/1.0 request).
    public internal(set) var hasUpgradeHeader: Bool = false
    /// `Expect: 100-continue` in an HTTP/1.1 request (ignored in HTTP/1.0, RFC 9110 §10.1.1).
    public internal(set) var expectsContinue: Bool = false
    /// The value of the Host header (requests); nil when absent. There is at most one (`duplicateHost`).
    public internal(set) var hostRange: ByteRange?

    /// Allocates the header table for `maxHeaders` lines (at least 1). The only allocation a head ever makes.
    public init(maxHeaders: Int = 101) {
        precondition(maxHeaders > 0, "maxHeaders must be positive, got \(maxHeaders)")
        self.maxHeaders = maxHeaders
        headers = UnsafeMutablePointer<HeaderEntry>.allocate(capacity: maxHeaders)
        headers.initialize(
            repeating: HeaderEntry(nameStart: 0, nameEnd: 0, valueStart: 0, valueEnd: 0),
            count: maxHeaders
        )
    }

    deinit {
        headers.deallocate()
    }

    /// The name of header `index` (0 ..< headerCount), exactly as received (case preserved).
    @inlinable
    public func name(at index: Int) -> ByteRange {
        precondition(index >= 0 && index < headerCount, "header index \(index) out of 0..<\(headerCount)")
        let entry = headers[index]
        return ByteRange(start: entry.nameStart, end: entry.nameEnd)
    }

    /// The value of header `index` (0 ..< headerCount), without leading and trailing SP/HTAB; may be empty.
    @inlinable
    public func value(at index: Int) -> ByteRange {
        precondition(index >= 0 && index < headerCount, "header index \(index) out of 0..<\(headerCount)")
        let entry = headers[index]
        return ByteRange(start: entry.valueStart, end: entry.valueEnd)
    }

    /// Forgets the previous message: every field back to its initial value. The table is kept.
    public func reset() {
        isRequest = true
        messageStart = 0
        method = .other
        methodRange = .empty
        target = .empty
        version = .http11
        schemeRange = nil
        authorityRange = nil
        pathRange = .empty
        queryRange = nil
        status = 0
        reasonRange = .empty
        headerCount = 0
        headLength = 0
        contentLength = nil
        contentLengthNeedsRewrite = false
        hasTransferEncoding = false
        isChunked = false
        hadContentLengthAndTransferEncoding = false
        connectionClose = false
        connectionKeepAlive = false
        connectionUpgrade = false
        hasUpgradeHeader = false
        expectsContinue = false
        hostRange = nil
    }

    /// Appends a header entry; the caller has checked `headerCount < maxHeaders`.
    @inline(__always)
    func appendHeader(nameStart: Int, nameEnd: Int, valueStart: Int, valueEnd: Int) {
        assert(headerCount < maxHeaders, "header table full: \(headerCount) of \(maxHeaders)")
        headers[headerCount] = HeaderEntry(
            nameStart: Int32(truncatingIfNeeded: nameStart),
            nameEnd: Int32(truncatingIfNeeded: nameEnd),
            valueStart: Int32(truncatingIfNeeded: valueStart),
            valueEnd: Int32(truncatingIfNeeded: valueEnd)
        )
        headerCount += 1
    }
}

/// A head belongs to one session on the loop thread.
@available(*, unavailable)
extension HTTPHead: Sendable {}
