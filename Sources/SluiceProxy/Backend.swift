// SPDX-License-Identifier: Apache-2.0
// Backend: a `backend` (or the backend half of a `listen`) at run time: its servers, load-balancing state and
// the queue of sessions waiting for a server slot. Frees slots and hands them to queued sessions in order.
import SluiceConfig
import SluiceCore

/// A backend. Loop-thread only.
final class Backend {
    let config: ProxyConfig
    let name: String
    private(set) var servers: [Server] = []
    var balancer: LoadBalancer
    /// Sessions waiting for a server slot, oldest first (intrusive list through Session.queueNext/queuePrev).
    var queue = SessionQueue()

    var currentConnections = 0
    var totalConnections = 0
    /// Sessions that got no server (all down/full past the queue timeout).
    var deniedConnections = 0
    /// What the stats page, `show stat` and Prometheus report (StatsCounters.swift).
    var stats = TrafficCounters()

    /// Set by a reload on a backend the new configuration no longer has: sessions on it may be closed at
    /// `hard-stop-after`.
    var isRemoved = false
    /// HTTP: rules, responses sluice writes itself, connection persistence and reuse, X-Forwarded-For.
    var rules = HTTPRules.none
    var errors = ErrorResponses()
    var httpMode: HTTPConnectionMode { config.httpConnectionMode }
    var reuse: HTTPReuse { config.httpReuse }
    /// The per-request `sni` expression its servers share (HTTP mode computes it once per request).
    var sniExpression: SampleExpression?
    var sniFetch: CompiledFetch?
    var forwardFor: CompiledForwardFor?

    init(config: ProxyConfig) {
        self.config = config
        self.name = config.name
        self.balancer = LoadBalancer(algorithm: config.balance, hashType: config.hashType)
        servers = config.servers.enumerated().map { Server(config: $0.element, backend: self, position: $0.offset) }
        balancer.serversChanged(servers)
    }

    /// Reload: puts a kept server (from the previous configuration's backend of the same name) in place of the
    /// fresh one at `position`. Returns true when the server's line changed.
    func keep(_ server: Server, at position: Int) -> Bool {
        let fresh = servers[position]
        let previousTLS = server.config.options.tls
        let changed = server.adopt(fresh.config, backend: self, position: position)
        server.adoptHealthCheck(from: fresh)
        // Certificates and TLS options are re-read on every reload: the kept server takes the new context. Its
        // session cache survives when the TLS settings did not change (resumption keeps working).
        if previousTLS != fresh.config.options.tls || server.tlsContext == nil {
            server.tlsSessions = fresh.tlsSessions
        }
        server.tlsContext = fresh.tlsContext
        server.sniName = fresh.sniName
        server.sniFetch = fresh.sniFetch
        servers[position] = server
        balancer.serversChanged(servers)
        return changed
    }

    /// `timeout connect` (default 5 s, HAProxy's advice when unset).
    var connectTimeoutMs: Int64 { Int64(config.timeouts.connect ?? 5000) }
    /// `timeout queue`, defaulting to `timeout connect` as in HAProxy.
    var queueTimeoutMs: Int64 { Int64(config.timeouts.queue ?? config.timeouts.connect ?? 5000) }
    /// True when at least one server could take traffic now or after a queue wait.
    var hasUsableServer: Bool { servers.contains { $0.isUsable } }
}
