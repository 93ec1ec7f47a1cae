// SPDX-License-Identifier: Apache-2.0
// HTTPParseError and HTTPHeadResult: why a message was refused, and the three outcomes of parsing a head.
// Each error names one rule of RFC 9110/9112, so the access log and debug traces can say which one was broken.

/// Why a message head or body was refused. A refused request is answered with `requestStatus` (400, or 505 for
/// an unsupported version) and the connection closed; a refused response becomes a 502.
public enum HTTPParseError: Error, Equatable, Sendable {
    /// The request line is not `method SP request-target SP HTTP-version`: a missing part, an extra or
    /// misplaced space or tab, or more than 32 bytes of empty lines before it.
    case badRequestLine
    /// The method contains a byte that is not a `tchar`.
    case badMethod
    /// The request target has a control, space, DEL, non-ASCII or `#` byte, or its form does not fit the
    /// method: authority-form only for CONNECT, `*` only for OPTIONS, origin-form or absolute-form otherwise;
    /// an absolute-form `http` URI with an empty host or with userinfo.
    case badTarget
    /// The version is not exactly `HTTP/` DIGIT `.` DIGIT (case-sensitive).
    case badVersion
    /// A well-formed version whose major number is not 1 (`HTTP/2.0`, `HTTP/0.9`): answered with 505, which
    /// RFC 9110 §15.6.6 defines for a major version the server does not support.
    case unsupportedVersion
    /// A header name is empty, has a byte that is not a `tchar`, or is not followed by a colon.
    case badHeaderName
    /// A header value has a control byte other than HTAB (NUL, DEL, ...).
    case badHeaderValue
    /// A CR that is not followed by LF, anywhere in the head or in chunked framing (RFC 9112 §2.2).
    case bareCarriageReturn
    /// Space or tab between a header name and its colon (RFC 9112 §5.1: must be rejected).
    case whitespaceBeforeColon
    /// A header line starting with SP or HTAB: obs-fold, or whitespace right after the start line.
    case obsFold
    /// More header lines than the head's `maxHeaders`.
    case tooManyHeaders
    /// No complete head within `maxHeadBytes` (tune.bufsize - tune.maxrewrite).
    case headTooLarge
    /// Content-Length is empty, signed, not decimal, or too large for a signed 64-bit count.
    case badContentLength
    /// Several Content-Length values (in one list or in several header lines) that differ.
    case conflictingContentLength
    /// Transfer-Encoding is empty, applies chunked twice, has a malformed coding, or (request) does not end
    /// with chunked.
    case badTransferEncoding
    /// Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1: the framing is faulty).
    case transferEncodingInHTTP10
    /// The status line is not `HTTP-version SP 3DIGIT [SP reason-phrase]` with a status in 100...599, or the
    /// reason phrase holds a control byte.
    case badStatusLine
    /// An HTTP/1.1 request without Host (RFC 9112 §3.2).
    case missingHost
    /// A request with more than one Host header line (RFC 9112 §3.2).
    case duplicateHost
    /// A Host value with a byte outside the authority characters (space, `/`, `@`, ...).
    case badHost
    /// An absolute-form request whose Host names another host or port than the URI's authority: the authority
    /// wins (RFC 9112 §3.2.2), so whoever routes on Host would disagree with the server. HAProxy answers 400.
    case hostMismatchesAuthority
    /// A CONNECT request with Transfer-Encoding or a non-zero Content-Length: it cannot have content (RFC 9110
    /// §9.3.6), and a server that read one would disagree with us about where the next request starts.
    case bodyInConnectRequest
    /// A chunk-size line that is not `1*HEXDIG [BWS ";" chunk-ext] CRLF`.
    case badChunkSize
    /// A chunk size above 2^52 - 1 (HAProxy's bound, safe for every integer type a server may parse it into).
    case chunkSizeOverflow
    /// Chunk data not followed by CRLF, or an LF without CR inside chunked framing.
    case badChunkFraming
    /// A malformed trailer line (same rules as a header line).
    case badTrailer
    /// The connection ended before the body did (Content-Length or chunked).
    case truncatedBody

    /// The status a proxy answers a refused request with: 505 for `unsupportedVersion`, 400 for the rest.
    public var requestStatus: Int {
        self == .unsupportedVersion ? 505 : 400
    }
}

/// The outcome of one call to `HTTPHeadParser.parseRequest` or `parseResponse`.
public enum HTTPHeadResult: Sendable, Equatable {
    /// The end of the head is not in the bytes yet: call again with more bytes and the same `scanned`.
    case incomplete
    /// The head was parsed into the `HTTPHead`; its body (if any) starts at `head.headLength`.
    case complete
    /// The head is invalid; the `HTTPHead` holds whatever was parsed before the error and must not be used.
    case failed(HTTPParseError)
}
