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

/// The fields of a head, kept behind one pointer: stored properties of a class pay a dynamic exclusivity check
/// on every access from another module (callgrind: 25 checks per reset, ~40% of the HTTP path's instructions).
@usableFromInline
struct HTTPHeadFields {
    @usableFromInline var isRequest: Bool = true
    @usableFromInline var messageStart: Int = 0
    @usableFromInline var method: HTTPMethod = .other
    @usableFromInline var methodRange: ByteRange = .empty
    @usableFromInline var target: ByteRange = .empty
    @usableFromInline var version: HTTPVersion = .http11
    @usableFromInline var schemeRange: ByteRange? = nil
    @usableFromInline var authorityRange: ByteRange? = nil
    @usableFromInline var pathRange: ByteRange = .empty
    @usableFromInline var queryRange: ByteRange? = nil
    @usableFromInline var status: Int = 0
    @usableFromInline var reasonRange: ByteRange = .empty
    @usableFromInline var headerCount: Int = 0
    @usableFromInline var headLength: Int = 0
    @usableFromInline var contentLength: Int64? = nil
    @usableFromInline var contentLengthNeedsRewrite: Bool = false
    @usableFromInline var hasTransferEncoding: Bool = false
    @usableFromInline var isChunked: Bool = false
    @usableFromInline var hadContentLengthAndTransferEncoding: Bool = false
    @usableFromInline var connectionClose: Bool = false
    @usableFromInline var connectionKeepAlive: Bool = false
    @usableFromInline var connectionUpgrade: Bool = false
    @usableFromInline var hasUpgradeHeader: Bool = false
    @usableFromInline var expectsContinue: Bool = false
    @usableFromInline var hostRange: ByteRange? = nil
    @usableFromInline var defaultPortRange: ByteRange? = nil

    @usableFromInline
    init() {}
}

/// A parsed request or response head: start line, header table and the framing facts the proxy needs, all as
/// offsets into the buffer that was parsed. Owned by one session and used on the loop thread only; `reset()` or
/// the next parse clears it. The values are meaningful only after a parse returned `.complete`.
public final class HTTPHead {
    /// Capacity of the header table (`tune.http.maxhdr`, 101 by default as in HAProxy).
    public let maxHeaders: Int
    @usableFromInline let headers: UnsafeMutablePointer<HeaderEntry>
    @usableFromInline let fields: UnsafeMutablePointer<HTTPHeadFields>

    // MARK: Start line

    /// True when the head was parsed as a request, false for a response.
    @inlinable public internal(set) var isRequest: Bool {
        get { fields.pointee.isRequest }
        set { fields.pointee.isRequest = newValue }
    }
    /// Offset of the request or status line: the number of bytes of empty lines skipped before it (RFC 9112 §2.2
    /// lets a server ignore them; at most 32 bytes are accepted). Usually 0.
    @inlinable public internal(set) var messageStart: Int {
        get { fields.pointee.messageStart }
        set { fields.pointee.messageStart = newValue }
    }
    /// The request method (requests).
    @inlinable public internal(set) var method: HTTPMethod {
        get { fields.pointee.method }
        set { fields.pointee.method = newValue }
    }
    /// The method's bytes (requests).
    @inlinable public internal(set) var methodRange: ByteRange {
        get { fields.pointee.methodRange }
        set { fields.pointee.methodRange = newValue }
    }
    /// The whole request-target (requests).
    @inlinable public internal(set) var target: ByteRange {
        get { fields.pointee.target }
        set { fields.pointee.target = newValue }
    }
    /// The version of the request or response line.
    @inlinable public internal(set) var version: HTTPVersion {
        get { fields.pointee.version }
        set { fields.pointee.version = newValue }
    }
    /// Absolute-form targets: the scheme (`http`), without `://`. Nil for other forms.
    @inlinable public internal(set) var schemeRange: ByteRange? {
        get { fields.pointee.schemeRange }
        set { fields.pointee.schemeRange = newValue }
    }
    /// Absolute-form targets: the authority (`host[:port]`); authority-form (CONNECT): the whole target. Nil for
    /// origin-form and asterisk-form. For absolute-form the proxy must use it instead of Host (RFC 9112 §3.2.2).
    @inlinable public internal(set) var authorityRange: ByteRange? {
        get { fields.pointee.authorityRange }
        set { fields.pointee.authorityRange = newValue }
    }
    /// The path: origin-form `/a/b` of `/a/b?q`; absolute-form the path after the authority (empty when the URI
    /// has none, to be sent as `/`); `*` for asterisk-form; empty for authority-form.
    @inlinable public internal(set) var pathRange: ByteRange {
        get { fields.pointee.pathRange }
        set { fields.pointee.pathRange = newValue }
    }
    /// The query after `?`, without the `?` (empty when the target ends with `?`); nil when there is no `?`.
    @inlinable public internal(set) var queryRange: ByteRange? {
        get { fields.pointee.queryRange }
        set { fields.pointee.queryRange = newValue }
    }
    /// The status code (responses), 100...599.
    @inlinable public internal(set) var status: Int {
        get { fields.pointee.status }
        set { fields.pointee.status = newValue }
    }
    /// The reason phrase (responses), possibly empty.
    @inlinable public internal(set) var reasonRange: ByteRange {
        get { fields.pointee.reasonRange }
        set { fields.pointee.reasonRange = newValue }
    }

    // MARK: Header table

    /// Number of header lines, in the order received; valid indexes for `name(at:)` and `value(at:)`.
    @inlinable public internal(set) var headerCount: Int {
        get { fields.pointee.headerCount }
        set { fields.pointee.headerCount = newValue }
    }
    /// Bytes of the whole head, from the first byte of the buffer (empty lines before the start line included)
    /// to the end of the empty line that closes it: the body or the next message starts at this offset.
    @inlinable public internal(set) var headLength: Int {
        get { fields.pointee.headLength }
        set { fields.pointee.headLength = newValue }
    }

    // MARK: Framing summary

    /// The validated Content-Length; nil when absent, and nil when Transfer-Encoding is present too (the length
    /// is then dropped, see `hadContentLengthAndTransferEncoding`).
    @inlinable public internal(set) var contentLength: Int64? {
        get { fields.pointee.contentLength }
        set { fields.pointee.contentLength = newValue }
    }
    /// True when Content-Length came in several lines or as a list (`5, 5`): the values agreed, and the proxy
    /// should forward a single `Content-Length: <contentLength>` instead of the lines received (HAProxy merges).
    @inlinable public internal(set) var contentLengthNeedsRewrite: Bool {
        get { fields.pointee.contentLengthNeedsRewrite }
        set { fields.pointee.contentLengthNeedsRewrite = newValue }
    }
    /// True when the message has a Transfer-Encoding header.
    @inlinable public internal(set) var hasTransferEncoding: Bool {
        get { fields.pointee.hasTransferEncoding }
        set { fields.pointee.hasTransferEncoding = newValue }
    }
    /// True when the last transfer coding is chunked (the body is chunked). A request with Transfer-Encoding is
    /// refused unless this holds; a response without it is read until close.
    @inlinable public internal(set) var isChunked: Bool {
        get { fields.pointee.isChunked }
        set { fields.pointee.isChunked = newValue }
    }
    /// True when Content-Length and Transfer-Encoding came together: Content-Length was dropped (the body is
    /// framed by Transfer-Encoding), the proxy must not forward it and must close the server connection after
    /// the response (RFC 9112 §6.3, the request smuggling defence).
    @inlinable public internal(set) var hadContentLengthAndTransferEncoding: Bool {
        get { fields.pointee.hadContentLengthAndTransferEncoding }
        set { fields.pointee.hadContentLengthAndTransferEncoding = newValue }
    }
    /// `Connection: close` was present.
    @inlinable public internal(set) var connectionClose: Bool {
        get { fields.pointee.connectionClose }
        set { fields.pointee.connectionClose = newValue }
    }
    /// `Connection: keep-alive` was present.
    @inlinable public internal(set) var connectionKeepAlive: Bool {
        get { fields.pointee.connectionKeepAlive }
        set { fields.pointee.connectionKeepAlive = newValue }
    }
    /// `Connection: upgrade` was present.
    @inlinable public internal(set) var connectionUpgrade: Bool {
        get { fields.pointee.connectionUpgrade }
        set { fields.pointee.connectionUpgrade = newValue }
    }
    /// An `Upgrade` header was present (a protocol switch is asked for only if `connectionUpgrade` holds too, and
    /// RFC 9110 §7.8 makes a server ignore it in an HTTP/1.0 request).
    @inlinable public internal(set) var hasUpgradeHeader: Bool {
        get { fields.pointee.hasUpgradeHeader }
        set { fields.pointee.hasUpgradeHeader = newValue }
    }
    /// `Expect: 100-continue` in an HTTP/1.1 request (ignored in HTTP/1.0, RFC 9110 §10.1.1).
    @inlinable public internal(set) var expectsContinue: Bool {
        get { fields.pointee.expectsContinue }
        set { fields.pointee.expectsContinue = newValue }
    }
    /// The value of the Host header (requests); nil when absent. There is at most one (`duplicateHost`).
    @inlinable public internal(set) var hostRange: ByteRange? {
        get { fields.pointee.hostRange }
        set { fields.pointee.hostRange = newValue }
    }
    /// Absolute-form: the `:port` ending the authority when the port is empty or the scheme's default
    /// (`http://a:80/`). A proxy forwards the target without it, as HAProxy normalizes.
    @inlinable public internal(set) var defaultPortRange: ByteRange? {
        get { fields.pointee.defaultPortRange }
        set { fields.pointee.defaultPortRange = newValue }
    }

    /// Allocates the header table for `maxHeaders` lines (at least 1). The only allocation a head ever makes.
    public init(maxHeaders: Int = 101) {
        precondition(maxHeaders > 0, "maxHeaders must be positive, got \(maxHeaders)")
        self.maxHeaders = maxHeaders
        fields = .allocate(capacity: 1)
        fields.initialize(to: HTTPHeadFields())
        headers = UnsafeMutablePointer<HeaderEntry>.allocate(capacity: maxHeaders)
        headers.initialize(
            repeating: HeaderEntry(nameStart: 0, nameEnd: 0, valueStart: 0, valueEnd: 0),
            count: maxHeaders
        )
    }

    deinit {
        headers.deallocate()
        fields.deallocate()
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
    @inlinable
    public func reset() {
        fields.pointee = HTTPHeadFields()
    }

    /// Appends a header entry; the caller has checked `headerCount < maxHeaders`.
    @inline(__always)
    /// Points the header whose value is `value` at `replacement`, other bytes of the same buffer (a Host
    /// normalized to the authority).
    func replaceValue(_ value: ByteRange, with replacement: ByteRange) {
        for i in 0..<headerCount where headers[i].valueStart == value.start && headers[i].valueEnd == value.end {
            headers[i].valueStart = replacement.start
            headers[i].valueEnd = replacement.end
        }
    }

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
