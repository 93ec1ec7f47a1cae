// SPDX-License-Identifier: Apache-2.0
// Frontend: a `frontend` (or the frontend half of a `listen`) at run time: its listeners, connection limit,
// backend-switching rules and access-log sinks. Decides which backend a new session uses.
import SluiceConfig
import SluiceCore

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
    let acls: [[ACLMatcher]]
    let logSinks: [LogSink]
    var listeners: [Listener] = []
    /// `option tcplog`/`httplog` with somewhere to log to.
    let logsConnections: Bool
    /// HTTP: rules, responses sluice writes itself, connection persistence, X-Forwarded-For.
    var rules = HTTPRules.none
    var errors = ErrorResponses()
    var httpMode = HTTPConnectionMode.keepAlive
    var forwardFor: ForwardFor?

    var currentConnections = 0
    var totalConnections = 0
    var deniedConnections = 0
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
        acls: [[ACLMatcher]],
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

    /// Applies `tcp-request connection` rules: false = reject.
    func acceptsConnection<S: SampleSource>(_ source: inout S) -> Bool {
        for rule in connectionRules {
            if let c = rule.condition, !c.evaluate(acls, &source) { continue }
            return rule.accepts
        }
        return true
    }

    /// The first `use_backend` whose condition holds, else `default_backend`; nil if none.
    func selectBackend<S: SampleSource>(_ source: inout S) -> Backend? {
        for s in switches {
            if let c = s.condition, !c.evaluate(acls, &source) { continue }
            return s.backend
        }
        return defaultBackend
    }
}
