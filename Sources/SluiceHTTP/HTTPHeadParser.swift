// SPDX-License-Identifier: Apache-2.0
// HTTPHeadParser: finds the end of a message head incrementally (O(n) over all calls, whatever the split), then
// validates it in one pass into a caller-owned HTTPHead. This file owns the entry points, the search for the
// end of the head and the start lines; header lines and framing fields are in HTTPHeadParser+Fields.swift.
// Nothing here allocates: offsets only, typed throws (no boxing), no String, no Array.
import Glibc

/// Parser for HTTP/1.x request and response heads (RFC 9112), strict where the RFC lets a recipient choose and
/// HAProxy-compatible otherwise. Stateless: the caller carries `scanned` between calls. Runs on the loop thread.
public enum HTTPHeadParser {
    /// Empty lines accepted before a start line (RFC 9112 §2.2 SHOULD ignore "at least one"): bounded so that
    /// skipping them costs O(1) per call even when a client sends nothing else.
    static let maxLeadingEmptyLineBytes = 32

    /// Parses a request head from the start of `bytes` into `head`.
    ///
    /// Incremental: `scanned` is an opaque resume point the caller keeps across calls for one message (0 for a
    /// new message, passed back unchanged with the same bytes plus the new ones); the search for the end of the
    /// head resumes there, so a client that sends one byte at a time costs O(n) in total. The full validation
    /// runs once, when the whole head is in `bytes`. Returns `.failed(.headTooLarge)` when no complete head fits
    /// in the first `maxHeadBytes` bytes (tune.bufsize - tune.maxrewrite). After `.complete` (`scanned` is then
    /// `head.headLength`) or `.failed`, start the next message with `scanned = 0`. `bytes` is borrowed for the
    /// call only; the ranges stored in `head` are offsets into it. Does not allocate.
    public static func parseRequest(
        _ bytes: UnsafeRawBufferPointer,
        into head: HTTPHead,
        scanned: inout Int,
        maxHeadBytes: Int
    ) -> HTTPHeadResult {
        parse(bytes, into: head, scanned: &scanned, maxHeadBytes: maxHeadBytes, isRequest: true)
    }

    /// Parses a response head from the start of `bytes` into `head`; same contract as `parseRequest`. The body
    /// length also depends on the request: see `HTTPHead.responseBodyLength(requestMethod:)`.
    public static func parseResponse(
        _ bytes: UnsafeRawBufferPointer,
        into head: HTTPHead,
        scanned: inout Int,
        maxHeadBytes: Int
    ) -> HTTPHeadResult {
        parse(bytes, into: head, scanned: &scanned, maxHeadBytes: maxHeadBytes, isRequest: false)
    }

    /// Both entry points: find the end of the head, then reset `head` and validate the head into it.
    static func parse(
        _ bytes: UnsafeRawBufferPointer,
        into head: HTTPHead,
        scanned: inout Int,
        maxHeadBytes: Int,
        isRequest: Bool
    ) -> HTTPHeadResult {
        // Offsets are stored in 32 bits; a head can never be that large anyway.
        let limit = min(maxHeadBytes, Int(Int32.max) - 1)
        let messageStart: Int
        let headEnd: Int
        switch findHeadEnd(bytes, scanned: &scanned, maxHeadBytes: limit) {
        case .incomplete:
            return .incomplete
        case .failed(let error):
            return .failed(error)
        case .found(let start, let end):
            messageStart = start
            headEnd = end
        }
        head.reset()
        head.isRequest = isRequest
        head.messageStart = messageStart
        head.headLength = headEnd
        do {
            try checkEveryCRIsFollowedByLF(bytes, from: messageStart, to: headEnd)
            let firstLine = lineBounds(bytes, from: messageStart)
            if isRequest {
                try parseRequestLine(bytes, from: messageStart, to: firstLine.contentEnd, into: head)
            } else {
                try parseStatusLine(bytes, from: messageStart, to: firstLine.contentEnd, into: head)
            }
            try parseFields(bytes, from: firstLine.next, headEnd: headEnd, into: head)
        } catch {
            return .failed(error)
        }
        return .complete
    }

    // MARK: End of the head

    /// Where the search for the end of the head stands.
    enum HeadEnd {
        case incomplete
        case failed(HTTPParseError)
        /// The start line begins at `start`; the head ends just after the LF at `end - 1`.
        case found(start: Int, end: Int)
    }

    /// Skips the empty lines before the start line, then looks for the first empty line after it, resuming at
    /// `scanned`. Every byte is looked at once over all calls (memchr for LF), except the at most 32 leading
    /// empty-line bytes, looked at again on each call.
    static func findHeadEnd(_ bytes: UnsafeRawBufferPointer, scanned: inout Int, maxHeadBytes: Int) -> HeadEnd {
        let limit = min(bytes.count, maxHeadBytes)
        guard limit > 0, let base = bytes.baseAddress else {
            return bytes.count >= maxHeadBytes && maxHeadBytes >= 0 ? .failed(.headTooLarge) : .incomplete
        }
        var start = 0
        while start < limit {
            let byte = bytes[start]
            if byte == ByteClass.lf {
                start += 1
            } else if byte == ByteClass.cr {
                guard start + 1 < limit else { break }
                guard bytes[start + 1] == ByteClass.lf else { return .failed(.bareCarriageReturn) }
                start += 2
            } else {
                break
            }
            if start > maxLeadingEmptyLineBytes { return .failed(.badRequestLine) }
        }
        var position = max(scanned, start)
        while position < limit {
            guard let found = memchr(base + position, Int32(ByteClass.lf), limit - position) else { break }
            let lf = base.distance(to: UnsafeRawPointer(found))
            // The line ending here is empty when the byte before the LF ends the previous line (LF), or is a
            // lone CR right after it; both must lie after `start`, whose line is never empty.
            if lf - 1 > start && bytes[lf - 1] == ByteClass.lf {
                scanned = lf + 1
                return .found(start: start, end: lf + 1)
            }
            if lf - 2 > start && bytes[lf - 1] == ByteClass.cr && bytes[lf - 2] == ByteClass.lf {
                scanned = lf + 1
                return .found(start: start, end: lf + 1)
            }
            // CR CR LF can never become a valid line end: refuse it now rather than wait for the head to end.
            if lf - 2 >= start && bytes[lf - 1] == ByteClass.cr && bytes[lf - 2] == ByteClass.cr {
                return .failed(.bareCarriageReturn)
            }
            position = lf + 1
        }
        scanned = max(scanned, limit)
        return bytes.count >= maxHeadBytes ? .failed(.headTooLarge) : .incomplete
    }

    /// RFC 9112 §2.2: a CR anywhere but right before an LF is refused. Checked once over the whole head (one
    /// memchr per line), so the validation below never meets a CR inside a line.
    static func checkEveryCRIsFollowedByLF(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        to end: Int
    ) throws(HTTPParseError) {
        let base = bytes.baseAddress!
        var position = start
        while position < end, let found = memchr(base + position, Int32(ByteClass.cr), end - position) {
            let cr = base.distance(to: UnsafeRawPointer(found))
            // The head ends with an LF, so a CR inside it always has a next byte within `end`.
            guard bytes[cr + 1] == ByteClass.lf else { throw .bareCarriageReturn }
            position = cr + 2
        }
    }

    /// The line starting at `start` (which the caller knows is followed by an LF before the head's end):
    /// `contentEnd` excludes the CRLF or LF, `next` is the start of the following line.
    @inline(__always)
    static func lineBounds(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (contentEnd: Int, next: Int) {
        let base = bytes.baseAddress!
        let found = memchr(base + start, Int32(ByteClass.lf), bytes.count - start)!
        let lf = base.distance(to: UnsafeRawPointer(found))
        let contentEnd = lf > start && bytes[lf - 1] == ByteClass.cr ? lf - 1 : lf
        return (contentEnd, lf + 1)
    }

    /// The error for a byte that is not allowed: a CR gets its own error, anything else `error`.
    @inline(__always)
    static func refused(_ byte: UInt8, as error: HTTPParseError) -> HTTPParseError {
        byte == ByteClass.cr ? .bareCarriageReturn : error
    }

    // MARK: Start lines

    /// `method SP request-target SP HTTP-version`, exactly one space each (RFC 9112 §3).
    static func parseRequestLine(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        to end: Int,
        into head: HTTPHead
    ) throws(HTTPParseError) {
        var i = start
        while i < end && ByteClass.isTokenChar(bytes[i]) { i += 1 }
        guard i < end else { throw .badRequestLine }
        guard i > start, bytes[i] == ByteClass.space else {
            throw ByteClass.isWhitespace(bytes[i]) ? .badRequestLine : refused(bytes[i], as: .badMethod)
        }
        head.methodRange = ByteRange(start: start, end: i)
        head.method = recognizeMethod(bytes, from: start, to: i)

        let targetStart = i + 1
        i = targetStart
        while i < end && bytes[i] != ByteClass.space {
            guard ByteClass.isTargetChar(bytes[i]) else { throw refused(bytes[i], as: .badTarget) }
            i += 1
        }
        guard i > targetStart, i < end else { throw .badRequestLine }
        let targetEnd = i
        head.target = ByteRange(start: targetStart, end: targetEnd)

        let versionStart = i + 1
        for j in versionStart..<end where ByteClass.isWhitespace(bytes[j]) { throw .badRequestLine }
        head.version = try parseVersion(bytes, from: versionStart, to: end)
        try parseTarget(bytes, from: targetStart, to: targetEnd, into: head)
    }

    /// `HTTP/` DIGIT `.` DIGIT, case-sensitive (RFC 9112 §2.3). Major 1 only; minor 0 is 1.0, any other 1.1.
    static func parseVersion(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) throws(HTTPParseError)
        -> HTTPVersion
    {
        guard end - start == 8, matches(bytes, at: start, "HTTP/"), bytes[start + 6] == UInt8(ascii: ".") else {
            for j in start..<end where bytes[j] == ByteClass.cr { throw .bareCarriageReturn }
            throw .badVersion
        }
        let major = bytes[start + 5] &- 0x30
        let minor = bytes[start + 7] &- 0x30
        guard major < 10, minor < 10 else { throw .badVersion }
        guard major == 1 else { throw .unsupportedVersion }
        return minor == 0 ? .http10 : .http11
    }

    /// `HTTP-version SP 3DIGIT [SP reason-phrase]` (RFC 9112 §4); the reason may be absent with its space, as
    /// HAProxy accepts. The status must be 100...599 (RFC 9110 §15).
    static func parseStatusLine(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        to end: Int,
        into head: HTTPHead
    ) throws(HTTPParseError) {
        guard end - start >= 12, bytes[start + 8] == ByteClass.space else {
            for j in start..<end where bytes[j] == ByteClass.cr { throw .bareCarriageReturn }
            throw .badStatusLine
        }
        head.version = try parseVersion(bytes, from: start, to: start + 8)
        let hundreds = bytes[start + 9] &- 0x30
        let tens = bytes[start + 10] &- 0x30
        let units = bytes[start + 11] &- 0x30
        guard hundreds >= 1, hundreds <= 5, tens < 10, units < 10 else { throw .badStatusLine }
        head.status = Int(hundreds) * 100 + Int(tens) * 10 + Int(units)
        var reasonStart = start + 12
        if reasonStart < end {
            guard bytes[reasonStart] == ByteClass.space else { throw refused(bytes[reasonStart], as: .badStatusLine) }
            reasonStart += 1
        }
        for j in reasonStart..<end where !ByteClass.isFieldValueChar(bytes[j]) {
            throw refused(bytes[j], as: .badStatusLine)
        }
        head.reasonRange = ByteRange(start: reasonStart, end: end)
    }

    /// The method as an enum value; methods are case-sensitive (RFC 9110 §9.1).
    static func recognizeMethod(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> HTTPMethod {
        switch end - start {
        case 3:
            if matches(bytes, at: start, "GET") { return .get }
            if matches(bytes, at: start, "PUT") { return .put }
        case 4:
            if matches(bytes, at: start, "POST") { return .post }
            if matches(bytes, at: start, "HEAD") { return .head }
        case 5:
            if matches(bytes, at: start, "PATCH") { return .patch }
            if matches(bytes, at: start, "TRACE") { return .trace }
        case 6:
            if matches(bytes, at: start, "DELETE") { return .delete }
        case 7:
            if matches(bytes, at: start, "OPTIONS") { return .options }
            if matches(bytes, at: start, "CONNECT") { return .connect }
        default:
            break
        }
        return .other
    }

    /// True when the bytes at `offset` are exactly `literal` (case-sensitive); the caller checked the length.
    @inline(__always)
    static func matches(_ bytes: UnsafeRawBufferPointer, at offset: Int, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard offset + count <= bytes.count else { return false }
        let text = literal.utf8Start
        for k in 0..<count where bytes[offset + k] != text[k] { return false }
        return true
    }
}
