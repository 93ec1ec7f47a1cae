// SPDX-License-Identifier: Apache-2.0
// Session+HTTPRewrite: rebuilds request and response heads for the other side. Hop-by-hop headers (Connection,
// Keep-Alive, Proxy-Connection, TE, Upgrade unless switching protocols, and those Connection names) go; rule
// edits and X-Forwarded-For come in; Connection is set for what sluice decided. The new head is composed in the
// loop's scratch area and replaces the old one in the session's buffer.
import SluiceConfig
import SluiceCore
import SluiceHTTP

extension Session {
    /// Rebuilds the request head at the front of the request buffer for `backend`. Returns the new head length,
    /// or nil when it does not fit (HAProxy answers 500 to a failed rewrite).
    func composeRequestHead(
        _ head: HTTPHead,
        bytes: UnsafeRawBufferPointer,
        backend: Backend,
        mode: HTTPConnectionMode,
        _ ctx: inout SampleContext
    ) -> Int? {
        let view = MessageView(head: head, bytes: bytes)
        let hasEdits = loop.ruleEdits.count > 0
        var b = loop.makeHeadBuilder()
        b.append(UnsafeRawBufferPointer(rebasing: bytes[Int(head.methodRange.start)..<Int(head.methodRange.end)]))
        b.append(byte: 32)
        if hasEdits {
            writeEditedTarget(&b, view, &ctx)
        } else {
            Self.append(&b, view, head.target, dropping: head.defaultPortRange)
        }
        b.append(head.version == .http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n")
        // Smuggling-safe: beside Transfer-Encoding, chunked frames the body and Content-Length goes.
        writeForwardedFields(
            &b, view, keepUpgrade: http.isUpgradeRequest, dropsContentLength: head.hadContentLengthAndTransferEncoding,
            response: false, hasEdits: hasEdits, &ctx)
        if let forwardFor = frontend.forwardFor ?? backend.forwardFor, !forwardFor.excepts(client),
            !forwardFor.onlyIfNone || forwardFor.headerName.withUnsafeBytes({ head.headerIndex(named: $0, in: bytes) == nil })
        {
            b.append(forwardFor.headerName)
            b.append(": ")
            b.append(address: client)
            b.append("\r\n")
        }
        if http.isUpgradeRequest {
            b.append("connection: upgrade\r\n")
        } else if mode != .keepAlive || http.mustCloseServer {
            b.append("connection: close\r\n")
        } else if head.version == .http10 {
            b.append("connection: keep-alive\r\n")
        }
        b.append("\r\n")
        guard b.install(into: &request, replacing: head.headLength) else { return nil }
        return b.count
    }

    /// Rebuilds the response head at the front of the response buffer for the client. Returns the new head
    /// length, or nil when it does not fit.
    func composeResponseHead(
        _ head: HTTPHead,
        bytes: UnsafeRawBufferPointer,
        isInterim: Bool,
        _ ctx: inout SampleContext
    ) -> Int? {
        let view = MessageView(head: head, bytes: bytes)
        let hasEdits = !isInterim && loop.ruleEdits.count > 0
        var b = loop.makeHeadBuilder()
        b.append(head.version == .http10 ? "HTTP/1.0 " : "HTTP/1.1 ")
        b.append(decimal: head.status)
        b.append(byte: 32)
        b.append(UnsafeRawBufferPointer(rebasing: bytes[Int(head.reasonRange.start)..<Int(head.reasonRange.end)]))
        b.append("\r\n")
        let switching = head.status == 101
        // Content-Length goes beside Transfer-Encoding (chunked frames the body), and on 1xx/204, which have no
        // body and must not carry the field (RFC 9110 §8.6).
        let dropsLength = head.hadContentLengthAndTransferEncoding || head.status < 200 || head.status == 204
        writeForwardedFields(
            &b, view, keepUpgrade: switching, dropsContentLength: dropsLength, response: true, hasEdits: hasEdits, &ctx)
        if switching {
            b.append("connection: upgrade\r\n")
        } else if !isInterim {
            if !http.clientKeepAlive {
                b.append("connection: close\r\n")
            } else if http.requestVersion == .http10 || head.version == .http10 {
                // An HTTP/1.0 message persists only when it says so (RFC 9112 §9.3): a 1.0 client, or a 1.1
                // client reading a 1.0 status line, needs the token to keep the connection.
                b.append("connection: keep-alive\r\n")
            }
        }
        b.append("\r\n")
        guard b.install(into: &response, replacing: head.headLength) else { return nil }
        return b.count
    }

    /// The header lines going to the peer: hop-by-hop ones and those the Connection header names are left out,
    /// Content-Length is left out (`dropsContentLength`) or written once when the message repeated it, the other
    /// lines pass as they are or as the recorded rule edits say; then the headers the rules add.
    private func writeForwardedFields(
        _ b: inout HeadBuilder,
        _ view: MessageView,
        keepUpgrade: Bool,
        dropsContentLength: Bool,
        response: Bool,
        hasEdits: Bool,
        _ ctx: inout SampleContext
    ) {
        let head = view.head
        let bytes = view.bytes
        let connectionIndex = Self.connectionListingHeaders(head, bytes: bytes)
        for i in 0..<head.headerCount {
            let name = head.name(at: i)
            if Self.isHopByHop(name, bytes: bytes, keepUpgrade: keepUpgrade) { continue }
            if let c = connectionIndex, Self.isListed(name, inConnectionOf: head, index: c, bytes: bytes) { continue }
            if HTTPBytes.equalsIgnoringCase(bytes, name, "content-length") {
                if dropsContentLength { continue }
                if head.contentLengthNeedsRewrite, let length = head.contentLength {
                    b.append("content-length: ")
                    b.append(decimal: Int(length))
                    b.append("\r\n")
                    continue
                }
            }
            if hasEdits {
                writeEditedHeader(&b, view, index: i, response: response, &ctx)
            } else {
                appendHeader(&b, name: name, value: head.value(at: i), bytes: bytes)
            }
        }
        if hasEdits { writeAddedHeaders(&b, response: response, &ctx) }
    }

    /// Appends `range` of the message without `drop` (a default port the target is normalized without: HAProxy
    /// forwards `http://a:80/` as `http://a/`).
    static func append(_ b: inout HeadBuilder, _ view: MessageView, _ range: ByteRange, dropping drop: ByteRange?) {
        guard let drop, drop.start >= range.start, drop.end <= range.end else {
            b.append(view.slice(range))
            return
        }
        b.append(view.slice(ByteRange(start: range.start, end: drop.start)))
        b.append(view.slice(ByteRange(start: drop.end, end: range.end)))
    }

    private func appendHeader(_ b: inout HeadBuilder, name: ByteRange, value: ByteRange, bytes: UnsafeRawBufferPointer) {
        b.append(UnsafeRawBufferPointer(rebasing: bytes[Int(name.start)..<Int(name.end)]))
        b.append(": ")
        b.append(UnsafeRawBufferPointer(rebasing: bytes[Int(value.start)..<Int(value.end)]))
        b.append("\r\n")
    }

    /// Hop-by-hop headers (RFC 9110 §7.6.1) that never cross the proxy, and Upgrade unless the switch happens.
    static func isHopByHop(_ name: ByteRange, bytes: UnsafeRawBufferPointer, keepUpgrade: Bool) -> Bool {
        switch name.count {
        case 2: return HTTPBytes.equalsIgnoringCase(bytes, name, "te")
        case 7: return !keepUpgrade && HTTPBytes.equalsIgnoringCase(bytes, name, "upgrade")
        case 10:
            return HTTPBytes.equalsIgnoringCase(bytes, name, "connection")
                || HTTPBytes.equalsIgnoringCase(bytes, name, "keep-alive")
        case 16: return HTTPBytes.equalsIgnoringCase(bytes, name, "proxy-connection")
        default: return false
        }
    }

    /// The Connection header's index when it names other headers (hop-by-hop too); nil in the common case of
    /// `close`/`keep-alive`/`upgrade` only, so the per-header check is skipped.
    static func connectionListingHeaders(_ head: HTTPHead, bytes: UnsafeRawBufferPointer) -> Int? {
        guard let index = head.headerIndex(named: "connection", in: bytes) else { return nil }
        var tokens = HTTPListElements(bytes, in: head.value(at: index))
        while let t = tokens.next() {
            if !(HTTPBytes.equalsIgnoringCase(bytes, t, "close") || HTTPBytes.equalsIgnoringCase(bytes, t, "keep-alive")
                || HTTPBytes.equalsIgnoringCase(bytes, t, "upgrade"))
            {
                return index
            }
        }
        return nil
    }

    /// True when `name` is one of the header names listed in the Connection header at `index` (they are
    /// hop-by-hop too), ignoring the connection options sluice handles itself.
    static func isListed(_ name: ByteRange, inConnectionOf head: HTTPHead, index: Int, bytes: UnsafeRawBufferPointer)
        -> Bool
    {
        var tokens = HTTPListElements(bytes, in: head.value(at: index))
        while let t = tokens.next() {
            if t.count != name.count { continue }
            if HTTPBytes.equalsIgnoringCase(bytes, t, "close") || HTTPBytes.equalsIgnoringCase(bytes, t, "keep-alive")
                || HTTPBytes.equalsIgnoringCase(bytes, t, "upgrade")
            {
                continue
            }
            let nameBytes = UnsafeRawBufferPointer(rebasing: bytes[Int(name.start)..<Int(name.end)])
            if HTTPBytes.equalsIgnoringCase(bytes, t, nameBytes) { return true }
        }
        return false
    }
}
