// SPDX-License-Identifier: Apache-2.0
// Samples: the runtime side of sample fetches. A compiled fetch produces zero or more values for one session and
// the message being processed (a header fetch yields every comma-separated element of every matching line, as
// HAProxy's hdr()), views into the message buffer wherever possible; converters (lower/upper) write into the
// loop's sample scratch. Content fetches (req.ssl_sni, req.len, ...) can answer "need more data" while a TCP
// frontend inspects. Nothing here allocates.
import Glibc
import SluiceConfig
import SluiceCore
import SluiceHTTP
import SluiceTLS

/// One sample value. Byte views are valid only during the evaluation that produced them.
enum SampleValue {
    case boolean(Bool)
    case integer(Int64)
    case address(IPEndpoint)
    case bytes(UnsafeRawBufferPointer)
}

/// A head being processed with the buffer its ranges point into.
struct MessageView {
    let head: HTTPHead
    let bytes: UnsafeRawBufferPointer

    func slice(_ r: ByteRange) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[Int(r.start)..<Int(r.end)])
    }
}

/// What fetches may look at: the session, and the request/response heads when they are being processed.
struct SampleContext {
    let session: Session
    var request: MessageView?
    var response: MessageView?
    /// `tcp-request inspect-delay` expired (or not inspecting): content fetches decide with what they have.
    var isFinal = true

    init(session: Session, request: MessageView? = nil, response: MessageView? = nil, isFinal: Bool = true) {
        self.session = session
        self.request = request
        self.response = response
        self.isFinal = isFinal
    }
}

/// The outcome of fetching: the values were given to the visitor, or the fetch needs more data.
enum FetchOutcome {
    case done
    case needMore
}

/// A compiled sample fetch (plus converters).
struct CompiledFetch {
    enum Kind {
        case alwaysTrue, alwaysFalse
        case constant([UInt8])
        case source, sourcePort, destination, destinationPort
        case tlsFrontConnection, tlsSNI, tlsHasSNI, tlsProtocol, tlsALPN, tlsClientCertUsed, tlsClientVerify
        case requestSSLSNI, requestSSLHelloType, requestLength, waitEnd, requestIsHTTP
        case method, path, url, base, query, urlParameter(name: [UInt8])
        case requestVersion
        /// `hdr`-family: `response` selects the response head (res.hdr, or hdr in response rules).
        case header(name: [UInt8], occurrence: Int, response: Bool, messageRelative: Bool)
        case headerCount(name: [UInt8], response: Bool, messageRelative: Bool)
        case headerValue(name: [UInt8], occurrence: Int, response: Bool, messageRelative: Bool)
        case status
    }

    let kind: Kind
    let converters: [SampleConverter]

    /// Compiles a model fetch; nil with a message for one the runtime cannot evaluate.
    static func compile(_ fetch: SampleFetch, converters: [SampleConverter], location: SourceLocation)
        -> Result<CompiledFetch, ConfigError>
    {
        let args = fetch.arguments
        func bytes(_ s: String) -> [UInt8] { Array(s.lowercased().utf8) }
        func occurrence() -> Int { args.count > 1 ? Int(args[1]) ?? 0 : 0 }
        let kind: Kind
        switch fetch.name {
        case "always_true": kind = .alwaysTrue
        case "always_false": kind = .alwaysFalse
        case "str": kind = .constant(Array((args.first ?? "").utf8))
        case "src": kind = .source
        case "src_port": kind = .sourcePort
        case "dst": kind = .destination
        case "dst_port": kind = .destinationPort
        case "ssl_fc": kind = .tlsFrontConnection
        case "ssl_fc_sni": kind = .tlsSNI
        case "ssl_fc_has_sni": kind = .tlsHasSNI
        case "ssl_fc_protocol": kind = .tlsProtocol
        case "ssl_fc_alpn": kind = .tlsALPN
        case "ssl_c_used": kind = .tlsClientCertUsed
        case "ssl_c_verify": kind = .tlsClientVerify
        case "req.ssl_sni": kind = .requestSSLSNI
        case "req.ssl_hello_type": kind = .requestSSLHelloType
        case "req.len": kind = .requestLength
        case "wait_end": kind = .waitEnd
        case "req.proto_http": kind = .requestIsHTTP
        case "method": kind = .method
        case "path": kind = .path
        case "url": kind = .url
        case "base": kind = .base
        case "query": kind = .query
        case "url_param": kind = .urlParameter(name: Array((args.first ?? "").utf8))
        case "req.ver": kind = .requestVersion
        case "req.hdr": kind = .header(name: bytes(args.first ?? ""), occurrence: occurrence(), response: false, messageRelative: false)
        case "req.hdr_cnt": kind = .headerCount(name: bytes(args.first ?? ""), response: false, messageRelative: false)
        case "req.hdr_val": kind = .headerValue(name: bytes(args.first ?? ""), occurrence: occurrence(), response: false, messageRelative: false)
        case "hdr": kind = .header(name: bytes(args.first ?? ""), occurrence: occurrence(), response: false, messageRelative: true)
        case "hdr_cnt": kind = .headerCount(name: bytes(args.first ?? ""), response: false, messageRelative: true)
        case "hdr_val": kind = .headerValue(name: bytes(args.first ?? ""), occurrence: occurrence(), response: false, messageRelative: true)
        case "res.hdr": kind = .header(name: bytes(args.first ?? ""), occurrence: occurrence(), response: true, messageRelative: false)
        case "res.hdr_cnt": kind = .headerCount(name: bytes(args.first ?? ""), response: true, messageRelative: false)
        case "res.hdr_val": kind = .headerValue(name: bytes(args.first ?? ""), occurrence: occurrence(), response: true, messageRelative: false)
        case "status": kind = .status
        default:
            return .failure(ConfigError(location, "fetch '\(fetch.name)' is not supported by sluice"))
        }
        return .success(CompiledFetch(kind: kind, converters: converters))
    }

    /// Calls `visit` with each value; `visit` returns true to stop early. Needs the loop for scratch space.
    /// True when the value comes from the HTTP message itself (method, target, headers, status, length), so
    /// that an earlier rule's edit of the message must be applied before this fetch runs.
    var readsHTTPMessage: Bool {
        switch kind {
        case .method, .path, .url, .base, .query, .urlParameter, .requestVersion, .header, .headerCount,
            .headerValue, .status, .requestLength:
            return true
        default:
            return false
        }
    }

    func fetch(_ ctx: inout SampleContext, _ visit: (SampleValue) -> Bool) -> FetchOutcome {
        if converters.isEmpty { return fetchRaw(&ctx, visit) }
        let scratch = ctx.session.loop.sampleScratch
        return fetchRaw(&ctx) { value in
            guard case .bytes(let b) = value else { return visit(value) }
            let n = min(b.count, scratch.count)
            for i in 0..<n {
                var c = b[i]
                for conv in converters {
                    switch conv {
                    case .lower: if c >= 65 && c <= 90 { c += 32 }
                    case .upper: if c >= 97 && c <= 122 { c -= 32 }
                    }
                }
                scratch[i] = c
            }
            return visit(.bytes(UnsafeRawBufferPointer(rebasing: scratch[0..<n])))
        }
    }

    /// The first value as text (a server name to send in SNI); nil when there is none or it is empty. Allocates
    /// the string: used once per server connection, never per event.
    func firstString(_ ctx: inout SampleContext) -> String? {
        var text: String?
        _ = fetch(&ctx) { value in
            switch value {
            case .bytes(let b): if !b.isEmpty { text = String(decoding: b, as: UTF8.self) }
            case .integer(let v): text = String(v)
            case .address(let a): text = a.addressText
            case .boolean: break  // not a name
            }
            return true
        }
        return text
    }

    private func fetchRaw(_ ctx: inout SampleContext, _ visit: (SampleValue) -> Bool) -> FetchOutcome {
        let s = ctx.session
        switch kind {
        case .alwaysTrue: _ = visit(.boolean(true))
        case .alwaysFalse: _ = visit(.boolean(false))
        case .constant(let b): _ = b.withUnsafeBytes { visit(.bytes($0)) }
        case .source: _ = visit(.address(s.client))
        case .sourcePort: _ = visit(.integer(Int64(s.client.port)))
        case .destination: _ = visit(.address(s.destination()))
        case .destinationPort: _ = visit(.integer(Int64(s.destination().port)))
        case .tlsFrontConnection: _ = visit(.boolean(s.clientTLS != nil))
        case .tlsSNI:
            if let name = s.clientTLS?.serverNameIndication { _ = Self.visitString(name, visit) }
        case .tlsHasSNI: _ = visit(.boolean(s.clientTLS?.serverNameIndication != nil))
        case .tlsProtocol:
            if let p = s.clientTLS?.negotiatedProtocol { _ = Self.visitString(p, visit) }
        case .tlsALPN:
            if let p = s.clientTLS?.alpnProtocol { _ = Self.visitString(p, visit) }
        case .tlsClientCertUsed: _ = visit(.boolean(s.clientTLS?.peerCertificatePresented ?? false))
        case .tlsClientVerify:
            if let tls = s.clientTLS { _ = visit(.integer(Int64(tls.verifyResult))) }
        case .requestSSLSNI, .requestSSLHelloType:
            guard s.request.isAllocated else { return ctx.isFinal ? .done : .needMore }
            let bytes = s.request.readable
            switch TLSClientHello.inspect(bytes) {
            case .incomplete: return ctx.isFinal ? .done : .needMore
            case .notHandshake: break
            case .handshake(let type, let name):
                if case .requestSSLHelloType = kind {
                    _ = visit(.integer(Int64(type)))
                } else if let name {
                    _ = visit(.bytes(UnsafeRawBufferPointer(rebasing: bytes[name])))
                }
            }
        case .requestLength: _ = visit(.integer(Int64(s.request.isAllocated ? s.request.count : 0)))
        case .waitEnd:
            if !ctx.isFinal { return .needMore }
            _ = visit(.boolean(true))
        case .requestIsHTTP: _ = visit(.boolean(ctx.request != nil))
        case .method:
            if let r = ctx.request { _ = visit(.bytes(r.slice(r.head.methodRange))) }
        case .path:
            // Asterisk-form (`OPTIONS *`) has no path: no value, as in HAProxy.
            if let r = ctx.request, r.head.pathRange.isEmpty || r.bytes[Int(r.head.pathRange.start)] == UInt8(ascii: "/") {
                _ = visit(.bytes(r.slice(r.head.pathRange)))
            }
        case .url:
            if let r = ctx.request { _ = visit(.bytes(r.slice(r.head.target))) }
        case .query:
            if let r = ctx.request, let q = r.head.queryRange { _ = visit(.bytes(r.slice(q))) }
        case .base:
            // Host header value followed by the path, composed in the scratch area.
            guard let r = ctx.request else { break }
            let scratch = s.loop.sampleScratch
            var n = 0
            if let host = r.head.hostRange {
                let h = r.slice(host)
                n = min(h.count, scratch.count)
                scratch.copyMemory(from: UnsafeRawBufferPointer(rebasing: h.prefix(n)))
            }
            let p = r.slice(r.head.pathRange)
            let m = min(p.count, scratch.count - n)
            UnsafeMutableRawBufferPointer(rebasing: scratch[n..<(n + m)]).copyMemory(from: UnsafeRawBufferPointer(rebasing: p.prefix(m)))
            _ = visit(.bytes(UnsafeRawBufferPointer(rebasing: scratch[0..<(n + m)])))
        case .urlParameter(let name):
            guard let r = ctx.request, let q = r.head.queryRange else { break }
            Self.visitParameter(named: name, in: r.slice(q), visit)
        case .requestVersion:
            if let r = ctx.request { _ = Self.visitString(r.head.version == .http10 ? "1.0" : "1.1", visit) }
        case .header(let name, let occurrence, let response, let relative):
            guard let m = message(ctx, response: response, relative: relative) else { break }
            Self.visitHeaderValues(m, name: name, occurrence: occurrence, visit)
        case .headerCount(let name, let response, let relative):
            guard let m = message(ctx, response: response, relative: relative) else { break }
            var count = 0
            Self.visitHeaderValues(m, name: name, occurrence: 0) { _ in
                count += 1
                return false
            }
            _ = visit(.integer(Int64(count)))
        case .headerValue(let name, let occurrence, let response, let relative):
            guard let m = message(ctx, response: response, relative: relative) else { break }
            Self.visitHeaderValues(m, name: name, occurrence: occurrence) { value in
                guard case .bytes(let b) = value else { return false }
                // HAProxy casts with strl2ic: leading digits, and a value without any (`abc`, empty) is 0.
                return visit(.integer(Self.parseInteger(b) ?? 0))
            }
        case .status:
            if let r = ctx.response { _ = visit(.integer(Int64(r.head.status))) }
        }
        return .done
    }

    /// The head a header fetch reads: the response for res.* and for hdr() while a response is processed.
    private func message(_ ctx: SampleContext, response: Bool, relative: Bool) -> MessageView? {
        if response { return ctx.response }
        if relative, let r = ctx.response { return r }
        return ctx.request
    }

    private static func visitString(_ s: String, _ visit: (SampleValue) -> Bool) -> Bool {
        var text = s
        return text.withUTF8 { visit(.bytes(UnsafeRawBufferPointer($0))) }
    }

    /// Every comma-separated element of every header line named `name` (lowercase bytes), in order, empty ones
    /// included as HAProxy counts them (HTTPFieldValues); with `occurrence` N > 0 only the Nth, with -1 only the
    /// last (HAProxy's hdr(name,occ)).
    static func visitHeaderValues(
        _ m: MessageView,
        name: [UInt8],
        occurrence: Int,
        _ visit: (SampleValue) -> Bool
    ) {
        var seen = 0
        var last: ByteRange?
        name.withUnsafeBytes { wanted in
            for i in 0..<m.head.headerCount where HTTPBytes.equalsIgnoringCase(m.bytes, m.head.name(at: i), wanted) {
                var elements = HTTPFieldValues(m.bytes, in: m.head.value(at: i))
                while let e = elements.next() {
                    seen += 1
                    if occurrence == -1 {
                        last = e
                    } else if occurrence == 0 || occurrence == seen {
                        if visit(.bytes(m.slice(e))) || occurrence == seen { return }
                    }
                }
            }
        }
        if occurrence == -1, let last { _ = visit(.bytes(m.slice(last))) }
    }

    /// The value of query parameter `name` (`a=1&name=2` -> `2`).
    static func visitParameter(named name: [UInt8], in query: UnsafeRawBufferPointer, _ visit: (SampleValue) -> Bool) {
        var start = 0
        while start <= query.count {
            var end = start
            while end < query.count && query[end] != UInt8(ascii: "&") { end += 1 }
            let pair = UnsafeRawBufferPointer(rebasing: query[start..<end])
            if pair.count > name.count && pair[name.count] == UInt8(ascii: "=")
                && name.withUnsafeBytes({ $0.elementsEqual(pair.prefix(name.count)) })
            {
                _ = visit(.bytes(UnsafeRawBufferPointer(rebasing: pair[(name.count + 1)...])))
                return
            }
            start = end + 1
        }
    }

    /// A decimal integer at the start of `b` (optional sign), as HAProxy's hdr_val reads it.
    static func parseInteger(_ b: UnsafeRawBufferPointer) -> Int64? {
        var i = 0
        var negative = false
        if i < b.count && (b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")) {
            negative = b[i] == UInt8(ascii: "-")
            i += 1
        }
        var value: Int64 = 0
        var digits = 0
        while i < b.count && b[i] >= 48 && b[i] <= 57 && digits < 18 {
            value = value * 10 + Int64(b[i] - 48)
            i += 1
            digits += 1
        }
        return digits == 0 ? nil : (negative ? -value : value)
    }
}

extension Session {
    /// The address the client connected to (getsockname once per connection, when a rule asks).
    func destination() -> IPEndpoint {
        if !hasLocalAddress {
            localAddress = Sys.localEndpoint(clientFD)
            hasLocalAddress = true
        }
        return localAddress
    }
}
