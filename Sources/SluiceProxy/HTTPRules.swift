// SPDX-License-Identifier: Apache-2.0
// HTTPRules: a proxy's http-request and http-response rules, compiled, and their evaluation against one message.
// Evaluation runs the rules in order: allow stops, deny/return/redirect answer locally, editing rules
// (set/add/del/replace-header, set-path, ...) are recorded in order and applied while the head is rebuilt
// (Session+HTTPEdits). A rule that reads the message stops the run while edits are pending, so that they are
// applied first: every rule sees the message as the earlier ones left it, as in HAProxy, and a request whose
// edits nobody reads afterwards is rebuilt once. Replies with constant bodies are prepared at load time; nothing
// here allocates per request.
import SluiceConfig
import SluiceCore
import SluiceHTTP

/// What the request rules decided.
enum RequestDecision {
    /// Forward the request (with the recorded edits).
    case proceed
    /// Rule `resumeAt` reads the message: apply the recorded edits to the head, then evaluate again from it.
    case applyEditsThenResume(at: Int)
    /// Answer with the first message when the connection can stay open, with the second (it says
    /// `connection: close`) when it cannot; a nil second message means the connection always closes.
    case respond([UInt8], close: [UInt8]?, isDeny: Bool)
    /// Answer with the first `count` bytes of the loop's head scratch (a redirect or a dynamic reply).
    case respondFromScratch(count: Int, closes: Bool)
    /// Answer with an internal service (the Prometheus exporter).
    case service(HTTPService)
}

/// What the response rules decided.
enum ResponseDecision {
    /// Forward the response (with the recorded edits).
    case proceed
    /// http-response deny: HAProxy answers 502.
    case deny
    /// Rule `resumeAt` reads the message: apply the recorded edits to the head, then evaluate again from it.
    case applyEditsThenResume(at: Int)
}

/// A header edit of a rule, compiled.
enum HeaderEdit {
    case set(name: [UInt8], value: CompiledLogFormat)
    case add(name: [UInt8], value: CompiledLogFormat)
    /// Removes the header lines whose name matches (`-m str` by default; beg, end, sub, reg).
    case delete(name: [UInt8], method: MatchMethod, regex: CompiledRegex?)
    case replaceHeader(name: [UInt8], regex: CompiledRegex, replacement: CompiledLogFormat)
    case replaceValue(name: [UInt8], regex: CompiledRegex, replacement: CompiledLogFormat)
}

/// Indices of the editing rules that matched the current message, in order (bit 30 set = the backend's rules).
/// Preallocated once per loop.
struct RuleEdits {
    private(set) var matched: [Int32]
    private(set) var count = 0

    init(capacity: Int) {
        matched = [Int32](repeating: 0, count: max(1, capacity))
    }

    mutating func reset() { count = 0 }

    mutating func append(_ rule: Int, fromBackend: Bool) {
        if count < matched.count {
            matched[count] = Int32(rule) | (fromBackend ? 1 << 30 : 0)
            count += 1
        }
    }

    /// The i-th matched edit: (is it a backend rule, rule index).
    subscript(i: Int) -> (fromBackend: Bool, index: Int) {
        let v = matched[i]
        return (v & (1 << 30) != 0, Int(v & ~(1 << 30)))
    }
}

/// A proxy's compiled HTTP rules.
struct HTTPRules {
    enum RequestAction {
        case allow
        case respond([UInt8], close: [UInt8]?, isDeny: Bool)
        case redirect(CompiledRedirect)
        case dynamicReply(status: Int, contentType: [UInt8]?, body: CompiledLogFormat)
        case edit(HeaderEdit)
        case setPath(CompiledLogFormat)
        case setQuery(CompiledLogFormat)
        case setURI(CompiledLogFormat)
        case service(HTTPService)
    }

    enum ResponseAction {
        case allow
        case deny
        case edit(HeaderEdit)
    }

    struct Rule<Action> {
        let action: Action
        let condition: CompiledCondition?
        /// The rule must see the message as the earlier rules left it (its condition or its value fetches from
        /// the message, or it rewrites what an earlier edit may have changed): edits still pending are applied
        /// to the head before it runs, as HAProxy applies each edit at once.
        var readsEditedMessage = false
    }

    /// No rules.
    static var none: HTTPRules { HTTPRules(acls: [], request: [], response: []) }

    let acls: [[CompiledTest]]
    let request: [Rule<RequestAction>]
    let response: [Rule<ResponseAction>]

    var isEmpty: Bool { request.isEmpty && response.isEmpty }

    /// Runs the http-request rules in order from `start` until one decides. Editing rules that match are
    /// recorded; a rule that must see them applied first stops the run (`applyEditsThenResume`).
    func evaluateRequest(
        _ ctx: inout SampleContext,
        edits: inout RuleEdits,
        fromBackend: Bool,
        from start: Int = 0,
        loop: Loop
    ) -> RequestDecision {
        for i in start..<request.count {
            let rule = request[i]
            if rule.readsEditedMessage && edits.count > 0 { return .applyEditsThenResume(at: i) }
            if let c = rule.condition, !c.holds(acls, &ctx) { continue }
            switch rule.action {
            case .allow:
                return .proceed
            case .respond(let bytes, let close, let isDeny):
                return .respond(bytes, close: close, isDeny: isDeny)
            case .redirect(let r):
                return .respondFromScratch(count: r.build(&ctx, loop: loop), closes: false)
            case .dynamicReply(let status, let contentType, let body):
                return .respondFromScratch(
                    count: Self.buildReply(status: status, contentType: contentType, body: body, &ctx, loop: loop),
                    closes: false
                )
            case .edit, .setPath, .setQuery, .setURI:
                edits.append(i, fromBackend: fromBackend)
            case .service(let s):
                return .service(s)
            }
        }
        return .proceed
    }

    /// Runs the http-response rules in order from `start`. Editing rules that match are recorded; a rule that
    /// must see them applied first stops the run (`applyEditsThenResume`).
    func evaluateResponse(_ ctx: inout SampleContext, edits: inout RuleEdits, fromBackend: Bool, from start: Int = 0)
        -> ResponseDecision
    {
        for i in start..<response.count {
            let rule = response[i]
            if rule.readsEditedMessage && edits.count > 0 { return .applyEditsThenResume(at: i) }
            if let c = rule.condition, !c.holds(acls, &ctx) { continue }
            switch rule.action {
            case .allow: return .proceed
            case .deny: return .deny
            case .edit: edits.append(i, fromBackend: fromBackend)
            }
        }
        return .proceed
    }

    /// A reply whose body is a log-format string, built in the head scratch.
    private static func buildReply(
        status: Int,
        contentType: [UInt8]?,
        body: CompiledLogFormat,
        _ ctx: inout SampleContext,
        loop: Loop
    ) -> Int {
        // Body first, at the end of the scratch area, then the head in front of it.
        var bodyBuilder = HeadBuilder(base: loop.headScratch + loop.headScratchCapacity / 2, capacity: loop.headScratchCapacity / 2)
        body.write(into: &bodyBuilder, &ctx)
        var b = loop.makeHeadBuilder()
        b.append("HTTP/1.1 ")
        b.append(decimal: status)
        b.append(byte: 32)
        var reason = ErrorResponses.reason(for: status)
        reason.withUTF8 { b.append(UnsafeRawBufferPointer($0)) }
        b.append("\r\ncontent-length: ")
        b.append(decimal: bodyBuilder.count)
        b.append("\r\n")
        if let contentType {
            b.append("content-type: ")
            b.append(contentType)
            b.append("\r\n")
        }
        b.append("\r\n")
        let headLength = b.count
        if headLength + bodyBuilder.count <= loop.headScratchCapacity / 2 {
            (loop.headScratch + headLength).update(from: bodyBuilder.base, count: bodyBuilder.count)
            return headLength + bodyBuilder.count
        }
        return headLength
    }
}

/// A compiled redirect rule.
struct CompiledRedirect {
    /// `redirect prefix /`.
    static let rootPrefix: [UInt8]? = [UInt8(ascii: "/")]

    let kind: HTTPRedirect.Kind
    let value: CompiledLogFormat
    let code: Int
    let dropsQuery: Bool
    let appendsSlash: Bool

    /// Builds the redirect response in the head scratch; returns its length.
    func build(_ ctx: inout SampleContext, loop: Loop) -> Int {
        var b = loop.makeHeadBuilder()
        b.append("HTTP/1.1 ")
        b.append(decimal: code)
        switch code {
        case 301: b.append(" Moved Permanently")
        case 303: b.append(" See Other")
        case 307: b.append(" Temporary Redirect")
        case 308: b.append(" Permanent Redirect")
        default: b.append(" Found")
        }
        b.append("\r\ncontent-length: 0\r\nlocation: ")
        let request = ctx.request
        switch kind {
        case .location:
            value.write(into: &b, &ctx)
        case .prefix:
            // A prefix of exactly "/" inserts nothing: a redirect to the same URI (HAProxy's special case).
            if value.constant != Self.rootPrefix { value.write(into: &b, &ctx) }
            if let r = request {
                b.append(r.slice(r.head.pathRange))
                appendSlashAndQuery(&b, r)
            }
        case .scheme:
            value.write(into: &b, &ctx)
            b.append("://")
            if let r = request {
                if let host = r.head.hostRange { b.append(r.slice(host)) }
                b.append(r.slice(r.head.pathRange))
                appendSlashAndQuery(&b, r)
            }
        }
        b.append("\r\ncache-control: no-cache\r\n\r\n")
        return b.count
    }

    private func appendSlashAndQuery(_ b: inout HeadBuilder, _ r: MessageView) {
        let path = r.slice(r.head.pathRange)
        if appendsSlash && (path.isEmpty || path[path.count - 1] != UInt8(ascii: "/")) { b.append(byte: UInt8(ascii: "/")) }
        if !dropsQuery, let q = r.head.queryRange {
            b.append(byte: UInt8(ascii: "?"))
            b.append(r.slice(q))
        }
    }
}
