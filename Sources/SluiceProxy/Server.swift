// SPDX-License-Identifier: Apache-2.0
// Server: one `server` line at run time: its address, weight, connection slots and counters. Sessions hold a
// strong reference to the server they use, so a server removed by a reload lives until its last session ends.
import SluiceConfig
import SluiceCore

/// A backend server. Loop-thread only.
final class Server {
    let config: ServerConfig
    let name: String
    let endpoint: IPEndpoint
    unowned let backend: Backend
    /// Position in the backend's server list (HAProxy's id order, used by `balance first`).
    let position: Int

    /// Effective weight (0 = takes no new traffic).
    var weight: Int
    /// `maxconn`; 0 = unlimited.
    let maxConnections: Int
    let isBackup: Bool
    /// `disabled` in the file (maintenance).
    var isInMaintenance: Bool
    /// Health: without checks a server is always up.
    var isUp = true

    /// Sessions currently using (or connecting to) this server.
    var currentConnections = 0
    var maxSeenConnections = 0
    var totalConnections = 0
    var failedConnects = 0

    /// Smooth weighted round-robin state.
    var roundRobinCurrent = 0

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

    /// Up, not in maintenance, with a weight: may be chosen for new sessions.
    var isUsable: Bool { isUp && !isInMaintenance && weight > 0 }

    /// True when a new connection fits under `maxconn`.
    var hasFreeSlot: Bool { maxConnections == 0 || currentConnections < maxConnections }

    /// Takes a connection slot.
    func acquireSlot() {
        currentConnections += 1
        totalConnections += 1
        if currentConnections > maxSeenConnections { maxSeenConnections = currentConnections }
    }
}
