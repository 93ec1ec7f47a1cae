// SPDX-License-Identifier: Apache-2.0
// Session+HTTPEdits: applies the editing rules recorded by HTTPRules while a head is rebuilt: which original
// header lines stay, go or get a replaced value (regex with \1..\9 back-references), which headers are added,
// and the request target for set-path/set-query/set-uri. Rules apply in their configured order. Edits are applied
// either in the final rewrite for the peer, or earlier in place (applyRequestEdits/applyResponseEdits) when a
// later rule, the backend choice or the SNI must see them.
import Glibc
import SluiceConfig
import SluiceCore
import SluiceHTTP

extension Session {
    /// The header edit of the recorded edit `i` in the current phase, if it is one.
    private func headerEdit(_ i: Int, response: Bool) -> HeaderEdit? {
        let (fromBackend, index) = loop.ruleEdits[i]
        let rules = fromBackend ? (backend?.rules ?? .none) : frontend.rules
        if response {
            guard index < rules.response.count, case .edit(let e) = rules.response[index].action else { return nil }
            return e
        }
        guard index < rules.request.count, case .edit(let e) = rules.request[index].action else { return nil }
        return e
    }

    private static func nameMatches(_ name: [UInt8], _ range: ByteRange, _ bytes: UnsafeRawBufferPointer) -> Bool {
        name.withUnsafeBytes { HTTPBytes.equalsIgnoringCase(bytes, range, $0) }
    }

    /// Writes header line `index` of `view` to `b` as the recorded edits decide (kept, dropped, or replaced).
    func writeEditedHeader(_ b: inout HeadBuilder, _ view: MessageView, index: Int, response: Bool, _ ctx: inout SampleContext) {
        let name = view.head.name(at: index)
        var value = view.head.value(at: index)
        var replacement: (HeaderEdit, Bool)? = nil  // (edit, isWholeValue)
        for i in 0..<loop.ruleEdits.count {
            guard let edit = headerEdit(i, response: response) else { continue }
            switch edit {
            case .set(let n, _):
                if Self.nameMatches(n, name, view.bytes) { return }
            case .delete(let n, let method, let regex):
                if Self.deleteMatches(n, method: method, regex: regex, name, view.bytes, loop: loop) { return }
            case .replaceHeader(let n, _, _):
                if Self.nameMatches(n, name, view.bytes) { replacement = (edit, true) }
            case .replaceValue(let n, _, _):
                if Self.nameMatches(n, name, view.bytes) { replacement = (edit, false) }
            case .add:
                break
            }
        }
        b.append(view.slice(name))
        b.append(": ")
        if let (edit, whole) = replacement {
            switch edit {
            case .replaceHeader(_, let regex, let repl), .replaceValue(_, let regex, let repl):
                if whole {
                    writeReplaced(&b, subject: view.slice(value), regex: regex, replacement: repl, &ctx)
                } else {
                    var first = true
                    var elements = HTTPListElements(view.bytes, in: value)
                    while let e = elements.next() {
                        if !first { b.append(", ") }
                        first = false
                        writeReplaced(&b, subject: view.slice(e), regex: regex, replacement: repl, &ctx)
                    }
                }
            default:
                break
            }
        } else {
            value = view.head.value(at: index)
            b.append(view.slice(value))
        }
        b.append("\r\n")
    }

    /// Appends the headers that set-header/add-header rules add (a later set or delete of the name cancels an
    /// earlier one).
    func writeAddedHeaders(_ b: inout HeadBuilder, response: Bool, _ ctx: inout SampleContext) {
        let count = loop.ruleEdits.count
        for i in 0..<count {
            guard let edit = headerEdit(i, response: response) else { continue }
            let name: [UInt8]
            let value: CompiledLogFormat
            switch edit {
            case .set(let n, let v), .add(let n, let v):
                name = n
                value = v
            default:
                continue
            }
            var cancelled = false
            for j in (i + 1)..<max(i + 1, count) {
                guard let later = headerEdit(j, response: response) else { continue }
                switch later {
                case .set(let n, _):
                    if Self.equalNames(n, name) { cancelled = true }
                case .delete(let n, let method, let regex):
                    if name.withUnsafeBytes({ nb in
                        Self.deleteMatches(n, method: method, regex: regex, ByteRange(start: 0, end: nb.count), nb, loop: loop)
                    }) {
                        cancelled = true
                    }
                default:
                    break
                }
                if cancelled { break }
            }
            if cancelled { continue }
            b.append(name)
            b.append(": ")
            value.write(into: &b, &ctx)
            b.append("\r\n")
        }
    }

    private static func equalNames(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where (a[i] | 0x20) != (b[i] | 0x20) { return false }
        return true
    }

    /// del-header's name match: `-m str` (default), beg, end, sub or reg, case-insensitive as header names are.
    private static func deleteMatches(
        _ pattern: [UInt8],
        method: MatchMethod,
        regex: CompiledRegex?,
        _ name: ByteRange,
        _ bytes: UnsafeRawBufferPointer,
        loop: Loop
    ) -> Bool {
        let subject = UnsafeRawBufferPointer(rebasing: bytes[Int(name.start)..<Int(name.end)])
        if let regex { return regex.matches(subject, scratch: loop.regexScratch) }
        func eq(_ o: Int) -> Bool {
            for i in 0..<pattern.count where (subject[o + i] | 0x20) != (pattern[i] | 0x20) { return false }
            return true
        }
        switch method {
        case .prefix: return subject.count >= pattern.count && eq(0)
        case .suffix: return subject.count >= pattern.count && eq(subject.count - pattern.count)
        case .substring:
            guard subject.count >= pattern.count else { return false }
            for o in 0...(subject.count - pattern.count) where eq(o) { return true }
            return false
        default: return subject.count == pattern.count && eq(0)
        }
    }

    /// Writes `subject` with the first match of `regex` replaced (back-references \0..\9 from the match); an
    /// unmatched subject is written unchanged, as HAProxy's replace-header does.
    private func writeReplaced(
        _ b: inout HeadBuilder,
        subject: UnsafeRawBufferPointer,
        regex: CompiledRegex,
        replacement: CompiledLogFormat,
        _ ctx: inout SampleContext
    ) {
        var groups = (regmatch_t(), regmatch_t(), regmatch_t(), regmatch_t(), regmatch_t(), regmatch_t(), regmatch_t(),
            regmatch_t(), regmatch_t(), regmatch_t())
        guard regex.match(subject, scratch: loop.regexScratch, groups: &groups) else {
            b.append(subject)
            return
        }
        let (matchStart, matchEnd) = (Int(groups.0.rm_so), Int(groups.0.rm_eo))
        b.append(UnsafeRawBufferPointer(rebasing: subject[0..<matchStart]))
        withUnsafeBytes(of: &groups) { raw in
            let g = raw.bindMemory(to: regmatch_t.self)
            for part in replacement.parts {
                guard case .literal(let bytes) = part else {
                    let single = CompiledLogFormat(parts: [part], constant: nil)
                    single.write(into: &b, &ctx)
                    continue
                }
                var k = 0
                while k < bytes.count {
                    if bytes[k] == UInt8(ascii: "\\"), k + 1 < bytes.count, bytes[k + 1] >= 48, bytes[k + 1] <= 57 {
                        let m = g[Int(bytes[k + 1] - 48)]
                        if m.rm_so >= 0 { b.append(UnsafeRawBufferPointer(rebasing: subject[Int(m.rm_so)..<Int(m.rm_eo)])) }
                        k += 2
                    } else {
                        b.append(byte: bytes[k])
                        k += 1
                    }
                }
            }
        }
        b.append(UnsafeRawBufferPointer(rebasing: subject[matchEnd...]))
    }

    /// Applies the recorded request edits to the head in the buffer now, so that what runs next (a rule, the
    /// stats URI, the backend choice, the SNI) sees the request as HAProxy shows it, each edit applied in turn.
    /// The head is rebuilt with the edits (nothing else changes: hop-by-hop headers stay for the final
    /// rewrite), installed in place of the old one and parsed again into `head`. Costs a rebuild only when an
    /// edit is pending and something reads the message after it. False when the result does not fit or parse.
    func applyRequestEdits(_ head: HTTPHead, _ ctx: inout SampleContext) -> Bool {
        guard loop.ruleEdits.count > 0 else { return true }
        let view = MessageView(head: head, bytes: request.readable)
        var b = loop.makeHeadBuilder()
        b.append(view.slice(head.methodRange))
        b.append(byte: 32)
        writeEditedTarget(&b, view, &ctx)
        b.append(head.version == .http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n")
        writeEditedFields(&b, view, response: false, &ctx)
        guard reinstall(b, into: &request, head, isRequest: true) else { return false }
        ctx.request = MessageView(head: head, bytes: request.readable)
        return true
    }

    /// The response side of `applyRequestEdits`: the status line as it came, the headers with the recorded
    /// edits, parsed again into `head`. False when the result does not fit or parse.
    func applyResponseEdits(_ head: HTTPHead, _ ctx: inout SampleContext) -> Bool {
        guard loop.ruleEdits.count > 0 else { return true }
        let view = MessageView(head: head, bytes: response.readable)
        var b = loop.makeHeadBuilder()
        b.append(head.version == .http10 ? "HTTP/1.0 " : "HTTP/1.1 ")
        b.append(decimal: head.status)
        b.append(byte: 32)
        b.append(view.slice(head.reasonRange))
        b.append("\r\n")
        writeEditedFields(&b, view, response: true, &ctx)
        guard reinstall(b, into: &response, head, isRequest: false) else { return false }
        ctx.response = MessageView(head: head, bytes: response.readable)
        return true
    }

    /// Puts the rebuilt head `b` in place of `head` at the front of `buffer` (the edits are now applied) and
    /// parses it again into `head`. False when it does not fit or does not parse.
    private func reinstall(_ b: HeadBuilder, into buffer: inout IOBuffer, _ head: HTTPHead, isRequest: Bool) -> Bool {
        loop.ruleEdits.reset()
        guard b.install(into: &buffer, replacing: head.headLength) else { return false }
        var scanned = 0
        let capacity = Int(buffer.capacity)
        let result =
            isRequest
            ? HTTPHeadParser.parseRequest(buffer.readable, into: head, scanned: &scanned, maxHeadBytes: capacity)
            : HTTPHeadParser.parseResponse(buffer.readable, into: head, scanned: &scanned, maxHeadBytes: capacity)
        if case .complete = result { return true }
        return false
    }

    /// Every header line of `view` with the recorded edits, then the added headers and the blank line that ends
    /// the head.
    private func writeEditedFields(_ b: inout HeadBuilder, _ view: MessageView, response: Bool, _ ctx: inout SampleContext) {
        for i in 0..<view.head.headerCount {
            writeEditedHeader(&b, view, index: i, response: response, &ctx)
        }
        writeAddedHeaders(&b, response: response, &ctx)
        b.append("\r\n")
    }

    /// Writes the request target, applying set-uri / set-path / set-query when they matched (the last wins).
    func writeEditedTarget(_ b: inout HeadBuilder, _ view: MessageView, _ ctx: inout SampleContext) {
        var setPath: CompiledLogFormat?
        var setQuery: CompiledLogFormat?
        var setURI: CompiledLogFormat?
        for i in 0..<loop.ruleEdits.count {
            let (fromBackend, index) = loop.ruleEdits[i]
            let rules = fromBackend ? (backend?.rules ?? .none) : frontend.rules
            guard index < rules.request.count else { continue }
            switch rules.request[index].action {
            case .setPath(let f): setPath = f
            case .setQuery(let f): setQuery = f
            case .setURI(let f): setURI = f
            default: break
            }
        }
        if let setURI {
            setURI.write(into: &b, &ctx)
            return
        }
        let head = view.head
        guard setPath != nil || setQuery != nil else {
            Self.append(&b, view, head.target, dropping: head.defaultPortRange)
            return
        }
        if head.schemeRange != nil {
            // Absolute-form: the path and query change, the scheme and authority stay (as in HAProxy).
            let schemeAndAuthority = ByteRange(start: head.target.start, end: head.pathRange.start)
            Self.append(&b, view, schemeAndAuthority, dropping: head.defaultPortRange)
        }
        if let setPath { setPath.write(into: &b, &ctx) } else { b.append(view.slice(view.head.pathRange)) }
        if let setQuery {
            let before = b.count
            b.append(byte: UInt8(ascii: "?"))
            setQuery.write(into: &b, &ctx)
            if b.count == before + 1 { b.truncate(to: before) }  // an empty query drops the '?'
        } else if let q = view.head.queryRange {
            b.append(byte: UInt8(ascii: "?"))
            b.append(view.slice(q))
        }
    }
}
