// SPDX-License-Identifier: Apache-2.0
// LogFormatWriter: evaluates a log-format string (`%[src]`, `%[req.hdr(host),lower]`, `%ci`, literals) into a
// HeadBuilder, for header values, redirect locations and reply bodies. Compiled once per rule; evaluation writes
// straight into the head being built and allocates nothing.
import SluiceConfig
import SluiceCore

/// A compiled log-format string.
struct CompiledLogFormat {
    enum Part {
        case literal([UInt8])
        case sample(CompiledFetch)
        case variable(LogFormatVariable)
    }

    let parts: [Part]
    /// The whole string when it has no dynamic part.
    let constant: [UInt8]?

    /// Compiles `format`; fetches the runtime cannot evaluate are errors.
    static func compile(_ format: LogFormat, location: SourceLocation) -> Result<CompiledLogFormat, ConfigError> {
        var parts: [Part] = []
        for p in format.parts {
            switch p {
            case .literal(let s): parts.append(.literal(Array(s.utf8)))
            case .variable(let v): parts.append(.variable(v))
            case .sample(let e):
                switch CompiledFetch.compile(e.fetch, converters: e.converters, location: location) {
                case .success(let f): parts.append(.sample(f))
                case .failure(let err): return .failure(err)
                }
            }
        }
        let constant: [UInt8]? = format.isConstant ? Array(format.text.utf8) : nil
        return .success(CompiledLogFormat(parts: parts, constant: constant))
    }

    /// True when a part fetches from the HTTP message (see CompiledFetch.readsHTTPMessage).
    var readsHTTPMessage: Bool {
        parts.contains { part in
            if case .sample(let f) = part { return f.readsHTTPMessage }
            return false
        }
    }

    /// Appends the evaluated string to `b`. A fetch without a value writes nothing (HAProxy writes `-` in logs,
    /// nothing in headers).
    func write(into b: inout HeadBuilder, _ ctx: inout SampleContext) {
        if let constant {
            b.append(constant)
            return
        }
        for part in parts {
            switch part {
            case .literal(let bytes):
                b.append(bytes)
            case .sample(let fetch):
                _ = fetch.fetch(&ctx) { value in
                    switch value {
                    case .bytes(let bytes): b.append(bytes)
                    case .integer(let v): b.append(decimal: Int(v))
                    case .boolean(let v): b.append(byte: v ? UInt8(ascii: "1") : UInt8(ascii: "0"))
                    case .address(let a): b.append(address: a)
                    }
                    return true  // the first value only
                }
            case .variable(let v):
                writeVariable(v, into: &b, &ctx)
            }
        }
    }

    private func writeVariable(_ v: LogFormatVariable, into b: inout HeadBuilder, _ ctx: inout SampleContext) {
        let s = ctx.session
        switch v {
        case .clientIP: b.append(address: s.client)
        case .clientPort: b.append(decimal: Int(s.client.port))
        case .frontendIP: b.append(address: s.destination())
        case .frontendPort: b.append(decimal: Int(s.destination().port))
        case .frontendName: appendString(s.frontend.name, &b)
        case .backendName: appendString(s.backend?.name ?? "-", &b)
        case .hostname: appendString(LogClock.hostname, &b)
        case .pid: b.append(decimal: Int(s.loop.log.pid))
        case .method:
            if let r = ctx.request { b.append(r.slice(r.head.methodRange)) }
        case .path:
            if let r = ctx.request { b.append(r.slice(r.head.pathRange)) }
        case .query:
            if let r = ctx.request, let q = r.head.queryRange {
                b.append(byte: UInt8(ascii: "?"))
                b.append(r.slice(q))
            }
        case .uri:
            if let r = ctx.request { b.append(r.slice(r.head.target)) }
        case .httpVersion:
            if let r = ctx.request { b.append(r.head.version == .http10 ? "HTTP/1.0" : "HTTP/1.1") }
        }
    }

    private func appendString(_ s: String, _ b: inout HeadBuilder) {
        var text = s
        text.withUTF8 { b.append(UnsafeRawBufferPointer($0)) }
    }
}
