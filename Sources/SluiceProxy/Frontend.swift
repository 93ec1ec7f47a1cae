// SPDX-License-Identifier: Apache-2.0
// Frontend: a `frontend` (or the frontend half of a `listen`) at run time: its listeners, connection limit,
// backend-switching rules and access-log sinks. Decides which backend a new session uses.
import SluiceConfig
import SluiceCore
import SluiceTLS

/// What a TCP frontend's content inspection decided.
enum ContentDecision {
    case accept
    case reject
    /// A rule needs more data; wait (up to `tcp-request inspect-delay`).
    case wait
}

/// A backend-switching rule, compiled.
struct BackendSwitch {
    let backend: Backend
    let condition: CompiledCondition?
}

/// A `tcp-request connection` rule, compiled.
struct ConnectionRule {
    let accepts: Bool
    let condition: CompiledCondition?
}

/// A frontend. Loop-thread only.
final class Frontend {
    let config: ProxyConfig
    let name: String
    /// `maxconn` of this frontend (global maxconn when unset).
    let maxConnections: Int
    let defaultBackend: Backend?
    let switches: [BackendSwitch]
    let connectionRules: [ConnectionRule]
    /// Each ACL as its OR-ed tests, indexed like `config.acls`.
    let acls: [[CompiledTest]]
    let logSinks: [LogSink]
    var listeners: [Listener] = []
    /// `option tcplog`/`httplog` with somewhere to log to.
    let logsConnections: Bool
    /// HTTP: rules, responses sluice writes itself, connection persistence, X-Forwarded-For.
    var rules = HTTPRules.none
    var errors = ErrorResponses()
    var httpMode: HTTPConnectionMode { config.httpConnectionMode }
    var forwardFor: CompiledForwardFor?

    var currentConnections = 0
    var totalConnections = 0
    var deniedConnections = 0
    /// What the stats page, `show stat` and Prometheus report (StatsCounters.swift).
    var stats = TrafficCounters()
    /// Listeners of this frontend paused because `maxConnections` was reached.
    var isPausedByLimit = false
    /// Set by a reload on a frontend the new configuration no longer has.
    var isRemoved = false

    init(
        config: ProxyConfig,
        maxConnections: Int,
        defaultBackend: Backend?,
        switches: [BackendSwitch],
        connectionRules: [ConnectionRule],
        acls: [[CompiledTest]],
        logSinks: [LogSink]
    ) {
        self.config = config
        self.name = config.name
        self.maxConnections = maxConnections
        self.defaultBackend = defaultBackend
        self.switches = switches
        self.connectionRules = connectionRules
        self.acls = acls
        self.logSinks = logSinks
        self.logsConnections = (config.tcpLog || config.httpLog) && !logSinks.isEmpty
    }

    var isFull: Bool { currentConnections >= maxConnections }

    /// `timeout client`, ms (nil = none).
    var clientTimeoutMs: Int64? { config.timeouts.client.map(Int64.init) }
    var clientFinTimeoutMs: Int64? { config.timeouts.clientFin.map(Int64.init) }

    /// TLS contexts of the bind lines (nil for a plain bind), aligned with `config.binds`.
    var bindContexts: [TLSContext?] = []

    /// `tcp-request content` rules, compiled (TCP mode).
    var contentRules: [ConnectionRule] = []
    /// `tcp-request inspect-delay`: how long content rules may wait for data.
    var inspectDelayMs: Int64? { config.inspectDelayMs.map(Int64.init) }

    /// Applies `tcp-request connection` rules: false = reject.
    func acceptsConnection(_ ctx: inout SampleContext) -> Bool {
        for rule in connectionRules {
            if let c = rule.condition, !c.holds(acls, &ctx) { continue }
            return rule.accepts
        }
        return true
    }

    /// Applies `tcp-request content` rules with the data received so far.
    func evaluateContent(_ ctx: inout SampleContext) -> ContentDecision {
        for rule in contentRules {
            if let c = rule.condition {
                switch c.evaluate(acls, &ctx) {
                case .no: continue
                case .needMore: return .wait
                case .yes: break
                }
            }
            return rule.accepts ? .accept : .reject
        }
        return .accept
    }

    /// The first `use_backend` whose condition holds, else `default_backend`; nil if none. `.wait` comes back
    /// as nil with `needsMore` set when a content fetch cannot answer yet.
    func selectBackend(_ ctx: inout SampleContext, needsMore: inout Bool) -> Backend? {
        for s in switches {
            if let c = s.condition {
                switch c.evaluate(acls, &ctx) {
                case .no: continue
                case .needMore:
                    needsMore = true
                    return nil
                case .yes: break
                }
            }
            return s.backend
        }
        return defaultBackend
    }

    /// `selectBackend` where waiting is not possible (HTTP: the whole head is there).
    func selectBackend(_ ctx: inout SampleContext) -> Backend? {
        var needsMore = false
        return selectBackend(&ctx, needsMore: &needsMore)
    }
}
