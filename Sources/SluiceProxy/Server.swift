// SPDX-License-Identifier: Apache-2.0
// Server: one `server` line at run time: its address, weight, connection slots and counters. Sessions hold a
// strong reference to the server they use, so a server removed by a reload lives until its last session ends.
import SluiceConfig
import SluiceCore
import SluiceTLS

/// A backend server. Loop-thread only.
final class Server {
    /// The `server` line. A reload that keeps this server (same backend, name, address and port) updates it.
    private(set) var config: ServerConfig
    let name: String
    let endpoint: IPEndpoint
    /// The backend that currently lists this server (a reload moves a kept server to the new Backend object).
    unowned var backend: Backend
    /// Position in the backend's server list (HAProxy's id order, used by `balance first`).
    var position: Int

    /// Effective weight (0 = takes no new traffic).
    var weight: Int
    /// `maxconn`; 0 = unlimited.
    var maxConnections: Int
    var isBackup: Bool
    /// `disabled` in the file, or maintenance set on the admin socket: takes no traffic at all.
    var isInMaintenance: Bool
    /// Drain set on the admin socket: takes no new sessions, those in progress finish.
    var isDraining = false
    /// Health: without checks a server is always up.
    var isUp = true
    /// `check` on the server line: its active check and health state (HealthCheck, Loop+Checks).
    var healthCheck: HealthCheck?
    /// Set by a reload when the new configuration no longer has this server.
    var isRemoved = false

    /// Sessions currently using (or connecting to) this server.
    var currentConnections = 0
    var maxSeenConnections = 0
    var totalConnections = 0
    var failedConnects = 0
    /// What the stats page, `show stat` and Prometheus report (StatsCounters.swift).
    var stats = TrafficCounters()
    /// Wall-clock second of the last change of state (admin or health), for lastchg.
    var lastStateChangeSeconds = Sys.wallClock().seconds
    /// Health-check counters as HAProxy's stats name them: failed checks that moved the health down (chkfail),
    /// UP to DOWN transitions (chkdown), and seconds spent DOWN before the current state (downtime).
    var checkFailures = 0
    var checkDownTransitions = 0
    var downtimeSeconds = 0
    /// Wall-clock second the server last went DOWN (valid while it is down).
    var downSinceSeconds = 0

    /// Total seconds DOWN so far, the current outage included (HAProxy's srv_downtime).
    var totalDowntimeSeconds: Int {
        downtimeSeconds + (isUp ? 0 : max(0, Sys.wallClock().seconds - downSinceSeconds))
    }

    /// Smooth weighted round-robin state.
    var roundRobinCurrent = 0
    /// Slots (in Loop.idleConnections) of this server's parked connections, oldest first.
    var idleSlots: [Int] = []
    /// `ssl`: the client-side TLS context for connections to this server, its session cache slot (resumption
    /// to servers) and the SNI to send: a constant (`sniName`), or computed per connection (`sniFetch`, e.g.
    /// `sni req.hdr(host)` or `sni ssl_fc_sni`).
    var tlsContext: TLSContext?
    var tlsSessions: TLSSessionSlot?
    var sniName: String?
    var sniFetch: CompiledFetch?

    init(config: ServerConfig, backend: Backend, position: Int) {
        self.config = config
        self.name = config.name
        self.endpoint = Runtime.endpoint(for: config.address)
        self.backend = backend
        self.position = position
        self.weight = config.options.weight
        self.maxConnections = config.options.maxconn ?? 0
        self.isBackup = config.options.isBackup
        self.isInMaintenance = config.options.isDisabled
    }

    /// Up, not in maintenance nor draining, with a weight: may be chosen for new sessions.
    var isUsable: Bool { isUp && !isInMaintenance && !isDraining && weight > 0 }

    /// True when a new connection fits under `maxconn`.
    var hasFreeSlot: Bool { maxConnections == 0 || currentConnections < maxConnections }

    /// True when `other` is the same server for a reload: same name, address and port (the backend name is
    /// matched by the caller). Its state, counters and connections carry over.
    func isSameServer(as other: ServerConfig) -> Bool {
        name == other.name && config.address == other.address
    }

    /// Takes the new file's line for this kept server. Weight, maxconn, maintenance and drain set at run time
    /// (admin socket) survive unless the line itself changed, in which case the file wins.
    func adopt(_ newConfig: ServerConfig, backend newBackend: Backend, position newPosition: Int) -> Bool {
        var oldLine = config
        oldLine.location = newConfig.location
        let lineChanged = oldLine != newConfig
        if lineChanged {
            weight = newConfig.options.weight
            isInMaintenance = newConfig.options.isDisabled
            isDraining = false
            maxConnections = newConfig.options.maxconn ?? 0
        }
        config = newConfig
        isBackup = newConfig.options.isBackup
        backend = newBackend
        position = newPosition
        return lineChanged
    }

    /// Takes a connection slot.
    func acquireSlot() {
        currentConnections += 1
        totalConnections += 1
        if currentConnections > maxSeenConnections { maxSeenConnections = currentConnections }
    }
}
