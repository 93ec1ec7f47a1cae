// SPDX-License-Identifier: Apache-2.0
// HTTPHeadParser, header section: one pass over the header lines into the head's table, validating names and
// values and reading the fields that decide framing and connection handling (Content-Length,
// Transfer-Encoding, Connection, Upgrade, Expect, Host), then the checks that need the whole section.

extension HTTPHeadParser {
    /// What the framing fields said, gathered across lines before the final checks.
    struct FramingScan {
        var transferCodingCount = 0
        var chunkedCount = 0
        var lastCodingIsChunked = false
        var hasContentLength = false
    }

    /// Parses the header lines from `start` to the empty line ending at `headEnd`, then applies the checks that
    /// depend on the whole section (Host, Content-Length with Transfer-Encoding, HTTP/1.0, CONNECT).
    static func parseFields(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        headEnd: Int,
        into head: HTTPHead
    ) throws(HTTPParseError) {
        var scan = FramingScan()
        var lineStart = start
        while true {
            let line = lineBounds(bytes, from: lineStart)
            if line.contentEnd == lineStart {
                assert(line.next == headEnd, "first empty line at \(line.next) is not the head end \(headEnd)")
                break
            }
            try parseFieldLine(bytes, from: lineStart, to: line.contentEnd, into: head, scan: &scan)
            lineStart = line.next
        }
        try finishFraming(head, scan: scan)
        try checkHostMatchesAuthority(bytes, head)
    }

    /// Absolute-form requests: Host and the URI's authority must name the same place. As HAProxy: equal ignoring
    /// case, or the same host where one side leaves out a port that is the scheme's default (`a` and `a:80`; an
    /// empty port counts as the default). A default port in the authority is marked for the proxy to drop from
    /// the target, and Host then becomes the authority's host, which is what HAProxy 2.6 forwards and routes on.
    static func checkHostMatchesAuthority(_ bytes: UnsafeRawBufferPointer, _ head: HTTPHead) throws(HTTPParseError) {
        guard head.isRequest, let scheme = head.schemeRange, let authority = head.authorityRange else { return }
        let (uriHost, uriPort) = splitPort(bytes, authority)
        if let uriPort, isDefaultPort(bytes, uriPort, scheme) {
            head.defaultPortRange = ByteRange(start: uriHost.end, end: authority.end)
        }
        guard let host = head.hostRange else { return }
        if !equalIgnoringCase(bytes, authority, host) {
            // The texts differ: only default ports may explain it, then the hosts decide.
            let (hostHost, hostPort) = splitPort(bytes, host)
            let portsAreDefault: Bool
            switch (uriPort, hostPort) {
            case (nil, nil): portsAreDefault = false
            case (let p?, nil), (nil, let p?): portsAreDefault = isDefaultPort(bytes, p, scheme)
            case (let p?, let q?): portsAreDefault = isDefaultPort(bytes, p, scheme) && isDefaultPort(bytes, q, scheme)
            }
            guard portsAreDefault, equalIgnoringCase(bytes, uriHost, hostHost) else { throw .hostMismatchesAuthority }
        }
        if head.defaultPortRange != nil {
            head.replaceValue(host, with: uriHost)
            head.hostRange = uriHost
        }
    }

    /// `host[:port]` split at a trailing `:digits` (possibly no digits); a bracketed IPv6 literal keeps its colons.
    static func splitPort(_ bytes: UnsafeRawBufferPointer, _ r: ByteRange) -> (host: ByteRange, port: ByteRange?) {
        var i = Int(r.end)
        while i > Int(r.start) && bytes[i - 1] &- UInt8(ascii: "0") < 10 { i -= 1 }
        guard i - 1 > Int(r.start), bytes[i - 1] == ByteClass.colon else { return (r, nil) }
        return (ByteRange(start: r.start, end: Int32(i - 1)), ByteRange(start: Int32(i), end: r.end))
    }

    /// True for an empty port, `80` with an `http` scheme and `443` with `https`.
    static func isDefaultPort(_ bytes: UnsafeRawBufferPointer, _ port: ByteRange, _ scheme: ByteRange) -> Bool {
        let s = Int(scheme.start), e = Int(scheme.end), p = Int(port.start), q = Int(port.end)
        if p == q { return true }
        if equalsLowercase(bytes, s, e, "http") { return equalsLowercase(bytes, p, q, "80") }
        if equalsLowercase(bytes, s, e, "https") { return equalsLowercase(bytes, p, q, "443") }
        return false
    }

    /// Two ranges of `bytes` hold the same text ignoring the case of ASCII letters.
    static func equalIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ a: ByteRange, _ b: ByteRange) -> Bool {
        HTTPBytes.equalsIgnoringCase(bytes, a, UnsafeRawBufferPointer(rebasing: bytes[Int(b.start)..<Int(b.end)]))
    }

    /// One `field-name ":" OWS field-value OWS` line (RFC 9112 §5).
    static func parseFieldLine(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        to end: Int,
        into head: HTTPHead,
        scan: inout FramingScan
    ) throws(HTTPParseError) {
        if ByteClass.isWhitespace(bytes[start]) { throw .obsFold }
        var i = start
        while i < end && ByteClass.isTokenChar(bytes[i]) { i += 1 }
        guard i < end, i > start, bytes[i] == ByteClass.colon else {
            if i < end && i > start && ByteClass.isWhitespace(bytes[i]) {
                var j = i
                while j < end && ByteClass.isWhitespace(bytes[j]) { j += 1 }
                if j < end && bytes[j] == ByteClass.colon { throw .whitespaceBeforeColon }
            }
            throw i < end ? refused(bytes[i], as: .badHeaderName) : .badHeaderName
        }
        let nameEnd = i
        var valueStart = i + 1
        while valueStart < end && ByteClass.isWhitespace(bytes[valueStart]) { valueStart += 1 }
        var valueEnd = end
        while valueEnd > valueStart && ByteClass.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        for j in valueStart..<valueEnd where !ByteClass.isFieldValueChar(bytes[j]) {
            throw refused(bytes[j], as: .badHeaderValue)
        }
        guard head.headerCount < head.maxHeaders else { throw .tooManyHeaders }
        head.appendHeader(nameStart: start, nameEnd: nameEnd, valueStart: valueStart, valueEnd: valueEnd)
        let value = ByteRange(start: valueStart, end: valueEnd)

        // Dispatch on the length first: most names match none of these and cost one switch.
        switch nameEnd - start {
        case 4 where equalsLowercase(bytes, start, nameEnd, "host"):
            guard head.isRequest else { return }
            guard head.hostRange == nil else { throw .duplicateHost }
            for j in valueStart..<valueEnd where !ByteClass.isAuthorityChar(bytes[j]) { throw .badHost }
            head.hostRange = value
        case 6 where equalsLowercase(bytes, start, nameEnd, "expect"):
            if head.isRequest && equalsLowercase(bytes, valueStart, valueEnd, "100-continue") {
                head.expectsContinue = true
            }
        case 7 where equalsLowercase(bytes, start, nameEnd, "upgrade"):
            head.hasUpgradeHeader = true
        case 10 where equalsLowercase(bytes, start, nameEnd, "connection"):
            parseConnection(bytes, value, into: head)
        case 14 where equalsLowercase(bytes, start, nameEnd, "content-length"):
            try parseContentLength(bytes, value, into: head)
            scan.hasContentLength = true
        case 17 where equalsLowercase(bytes, start, nameEnd, "transfer-encoding"):
            head.hasTransferEncoding = true
            try parseTransferEncoding(bytes, value, scan: &scan)
        default:
            break
        }
    }

    /// `Content-Length = 1*DIGIT`, also as a list of identical values (`5, 5`) or repeated lines, which RFC 9110
    /// §8.6 lets a recipient merge, as HAProxy does. Empty elements, signs, non-digits and values above
    /// Int64.max are refused; differing values are `conflictingContentLength`.
    static func parseContentLength(
        _ bytes: UnsafeRawBufferPointer,
        _ value: ByteRange,
        into head: HTTPHead
    ) throws(HTTPParseError) {
        let end = Int(value.end)
        var i = Int(value.start)
        if head.contentLength != nil { head.contentLengthNeedsRewrite = true }
        repeat {
            while i < end && ByteClass.isWhitespace(bytes[i]) { i += 1 }
            let digitsStart = i
            var length: Int64 = 0
            while i < end, bytes[i] &- 0x30 < 10 {
                let (times10, overflow1) = length.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(Int64(bytes[i] &- 0x30))
                guard !overflow1, !overflow2 else { throw .badContentLength }
                length = sum
                i += 1
            }
            guard i > digitsStart else { throw .badContentLength }
            while i < end && ByteClass.isWhitespace(bytes[i]) { i += 1 }
            if let previous = head.contentLength {
                guard previous == length else { throw .conflictingContentLength }
                head.contentLengthNeedsRewrite = true
            }
            head.contentLength = length
            if i < end {
                guard bytes[i] == ByteClass.comma else { throw .badContentLength }
                i += 1
                // A trailing comma leaves an empty element, refused by the digit check above.
                if i == end { throw .badContentLength }
            }
        } while i < end
    }

    /// `Transfer-Encoding = #transfer-coding` (RFC 9112 §6.1): records how many codings, how often chunked, and
    /// whether the last one (so far, across lines) is chunked. A coding is a token, possibly with parameters.
    static func parseTransferEncoding(
        _ bytes: UnsafeRawBufferPointer,
        _ value: ByteRange,
        scan: inout FramingScan
    ) throws(HTTPParseError) {
        var elements = HTTPListElements(bytes, in: value)
        while let element = elements.next() {
            let start = Int(element.start)
            let end = Int(element.end)
            var i = start
            while i < end && ByteClass.isTokenChar(bytes[i]) { i += 1 }
            guard i > start else { throw .badTransferEncoding }
            let isChunked = i == end && equalsLowercase(bytes, start, end, "chunked")
            if !isChunked && i < end {
                // Parameters: OWS ";" ... ; anything else after the token is not a coding.
                while i < end && ByteClass.isWhitespace(bytes[i]) { i += 1 }
                guard i < end, bytes[i] == UInt8(ascii: ";") else { throw .badTransferEncoding }
            }
            scan.transferCodingCount += 1
            if isChunked { scan.chunkedCount += 1 }
            scan.lastCodingIsChunked = isChunked
        }
    }

    /// `Connection = #connection-option`: notes close, keep-alive and upgrade (case-insensitive). Other options
    /// name hop-by-hop headers; the proxy finds them with `HTTPListElements`.
    static func parseConnection(_ bytes: UnsafeRawBufferPointer, _ value: ByteRange, into head: HTTPHead) {
        var elements = HTTPListElements(bytes, in: value)
        while let element = elements.next() {
            let start = Int(element.start)
            let end = Int(element.end)
            switch end - start {
            case 5 where equalsLowercase(bytes, start, end, "close"):
                head.connectionClose = true
            case 7 where equalsLowercase(bytes, start, end, "upgrade"):
                head.connectionUpgrade = true
            case 10 where equalsLowercase(bytes, start, end, "keep-alive"):
                head.connectionKeepAlive = true
            default:
                break
            }
        }
    }

    /// The checks that need every header line: Host (requests), Transfer-Encoding rules, dropping
    /// Content-Length when Transfer-Encoding is present, CONNECT without content, Expect in HTTP/1.0.
    static func finishFraming(_ head: HTTPHead, scan: FramingScan) throws(HTTPParseError) {
        if head.isRequest {
            if head.version == .http11 && head.hostRange == nil { throw .missingHost }
            if head.version == .http10 { head.expectsContinue = false }
        }
        if head.hasTransferEncoding {
            if head.version == .http10 { throw .transferEncodingInHTTP10 }
            // chunked twice is refused in both directions (RFC 9112 §6.1: a sender MUST NOT apply it twice).
            guard scan.transferCodingCount > 0, scan.chunkedCount <= 1 else { throw .badTransferEncoding }
            // A request must end with chunked; a response that does not is read until close (RFC 9112 §6.3).
            if head.isRequest && !scan.lastCodingIsChunked { throw .badTransferEncoding }
            head.isChunked = scan.lastCodingIsChunked
            if scan.hasContentLength {
                head.hadContentLengthAndTransferEncoding = true
                head.contentLength = nil
                head.contentLengthNeedsRewrite = false
            }
        }
        if head.isRequest && head.method == .connect {
            if head.hasTransferEncoding || scan.hasContentLength && head.contentLength != 0 {
                throw .bodyInConnectRequest
            }
        }
    }

    /// True when bytes `[start, end)` equal `literal` (lowercase ASCII) ignoring the case of ASCII letters.
    @inline(__always)
    static func equalsLowercase(
        _ bytes: UnsafeRawBufferPointer,
        _ start: Int,
        _ end: Int,
        _ literal: StaticString
    ) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard end - start == count else { return false }
        let text = literal.utf8Start
        for k in 0..<count where ByteClass.lowercased(bytes[start + k]) != text[k] { return false }
        return true
    }
}
