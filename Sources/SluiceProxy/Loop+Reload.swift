// SPDX-License-Identifier: Apache-2.0
// Loop+Reload: the in-process reload on SIGHUP. Parse and build the new configuration first; any error keeps the
// old one serving (every error logged with file:line). On success: listening sockets whose address stays are
// handed to the new frontends (never closed and reopened), new addresses are bound before anything changes (a
// failed bind fails the whole reload), removed ones close; servers kept by (backend, name, address) carry their
// state, counters and connections; sessions in flight finish on the objects they started with. One log line
// summarises the change. systemd hears RELOADING=1 before and READY=1 after, a failed reload too.
import SluiceConfig
import SluiceCore

/// What a reload changed, for its summary line.
struct ReloadSummary {
    var frontendsAdded = 0
    var frontendsRemoved = 0
    var frontendsKept = 0
    var backendsAdded = 0
    var backendsRemoved = 0
    var backendsKept = 0
    var serversAdded = 0
    var serversRemoved = 0
    var serversChanged = 0
    var serversKept = 0
    var listenersOpened = 0
    var listenersClosed = 0
    var listenersKept = 0
    var sessionsOnRemovedObjects = 0

    var line: String {
        "Reload complete: frontends +\(frontendsAdded) -\(frontendsRemoved) =\(frontendsKept), "
            + "backends +\(backendsAdded) -\(backendsRemoved) =\(backendsKept), "
            + "servers +\(serversAdded) -\(serversRemoved) ~\(serversChanged) =\(serversKept), "
            + "listeners +\(listenersOpened) -\(listenersClosed) =\(listenersKept); "
            + "\(sessionsOnRemovedObjects) connections still on removed objects"
    }
}

extension Loop {
    /// Reloads the configuration from the `-f` paths. Never stops the service: on any failure the previous
    /// configuration keeps serving and the failure is logged and reported in STATUS=.
    func reload() {
        let started = Sys.monotonicNanoseconds()
        notifier.reloading()
        let failure = performReload()
        let elapsedMs = (Sys.monotonicNanoseconds() - started) / 1_000_000
        lastReload = (Sys.wallClock().seconds, failure == nil)
        if let failure {
            log.admin(.alert, "Reload failed after \(elapsedMs) ms: \(failure); still serving the previous configuration")
        } else {
            reloadCount += 1
        }
        notifier.ready(status: statusLine())
    }

    /// Does the work; returns nil on success or why the reload was refused.
    private func performReload() -> String? {
        let loaded = ConfigLoader.load(paths: configPaths)
        var alerts = 0
        for d in Daemon.diagnostics(of: loaded) {
            if d.severity == .alert { alerts += 1 }
            let place = d.location.map { "parsing [\($0.file):\($0.line)] : " } ?? ""
            log.admin(d.severity == .alert ? .alert : .warning, place + d.message)
        }
        guard let config = loaded.configuration else { return "\(alerts) errors in the configuration" }
        if let setting = restartOnlySettingChanged(from: runtime.config.global, to: config.global) {
            return "'\(setting)' changed, which requires a restart"
        }
        let newMaxConnections = config.global.maxconn ?? max(1, (fdCapacity - 100) / 2)
        if newMaxConnections * 2 + 100 > fdCapacity && newMaxConnections > maxConnections {
            return "maxconn \(newMaxConnections) is above what the fd table (\(fdCapacity)) allows, which requires a restart"
        }
        let sinks = config.global.logTargets.compactMap { LogSink.make($0, reusing: log.globalSinks) }
        let built = Runtime.build(
            config,
            globalMaxConnections: newMaxConnections,
            globalLogSinks: sinks,
            openLogs: true
        )
        guard let next = built.runtime else {
            for e in built.errors {
                let place = e.location.map { "parsing [\($0.file):\($0.line)] : " } ?? ""
                log.admin(.alert, place + e.message)
            }
            return "\(built.errors.count) errors in the configuration"
        }
        // Bind what is new before changing anything; addresses that stay keep their socket.
        var byAddress: [BindAddress: Listener] = [:]
        for case let l? in listeners where l.state != .closed { byAddress[l.address] = l }
        var adminByAddress: [BindAddress: AdminListener] = [:]
        for case let l? in adminListeners { adminByAddress[l.address] = l }
        if let failure = next.bindAll(
            existing: { address in
                guard let l = byAddress.removeValue(forKey: address) else { return nil }
                return ExistingSocket(fd: l.fd, isInherited: false, listener: l)
            },
            existingAdmin: { adminByAddress.removeValue(forKey: $0) }
        ) {
            return failure
        }
        let summary = swap(to: next, newMaxConnections: newMaxConnections)
        log.globalSinks = sinks
        log.admin(.notice, summary.line)
        return nil
    }

    /// Settings a running process cannot change: buffer sizes (buffers in flight have the old size), the poll
    /// events array, and identity (user, group, chroot). nil when none changed.
    private func restartOnlySettingChanged(from old: GlobalSettings, to new: GlobalSettings) -> String? {
        if old.tune.bufferSize != new.tune.bufferSize { return "tune.bufsize" }
        if old.tune.maxRewrite != new.tune.maxRewrite { return "tune.maxrewrite" }
        if old.tune.maxPollEvents != new.tune.maxPollEvents { return "tune.maxpollevents" }
        if old.user != new.user || old.uid != new.uid { return "user" }
        if old.group != new.group || old.gid != new.gid { return "group" }
        if old.chroot != new.chroot { return "chroot" }
        return nil
    }

    /// Makes `next` the running configuration. Runs only after everything that can fail has succeeded.
    private func swap(to next: Runtime, newMaxConnections: Int) -> ReloadSummary {
        var summary = ReloadSummary()
        let previous = runtime

        // Backends and servers: a server with the same backend, name and address is the same server.
        var oldBackends: [String: Backend] = [:]
        for b in previous.backends { oldBackends[b.name] = b }
        for b in next.backends {
            guard let old = oldBackends.removeValue(forKey: b.name) else {
                summary.backendsAdded += 1
                summary.serversAdded += b.servers.count
                continue
            }
            summary.backendsKept += 1
            b.inheritCounters(from: old)
            var oldServers = old.servers
            for position in b.servers.indices {
                let fresh = b.servers[position]
                if let i = oldServers.firstIndex(where: { $0.isSameServer(as: fresh.config) }) {
                    let kept = oldServers.remove(at: i)
                    if b.keep(kept, at: position) { summary.serversChanged += 1 } else { summary.serversKept += 1 }
                } else {
                    summary.serversAdded += 1
                }
            }
            for s in oldServers { s.isRemoved = true }
            summary.serversRemoved += oldServers.count
            // Sessions waiting for a slot move to the backend that now owns the servers.
            while let waiting = old.queue.popFirst() {
                old.currentConnections -= 1
                b.currentConnections += 1
                waiting.backend = b
                b.queue.append(waiting)
            }
        }
        for old in oldBackends.values {
            old.isRemoved = true
            for s in old.servers { s.isRemoved = true }
            summary.backendsRemoved += 1
            summary.serversRemoved += old.servers.count
        }

        // Frontends: always new objects (rules may have changed); sessions keep the ones they started on.
        let nextNames = Set(next.frontends.map(\.name))
        for f in previous.frontends where !nextNames.contains(f.name) {
            f.isRemoved = true
            summary.frontendsRemoved += 1
        }
        var previousByName: [String: Frontend] = [:]
        for f in previous.frontends { previousByName[f.name] = f }
        for f in next.frontends {
            if let old = previousByName[f.name] {
                summary.frontendsKept += 1
                f.inheritCounters(from: old)
            } else {
                summary.frontendsAdded += 1
            }
        }

        // Listeners: kept ones serve the new frontends; new ones start; those left out close.
        let keptListeners = Set(next.boundSockets.compactMap { $0.keptListener.map(ObjectIdentifier.init) })
        summary.listenersKept = keptListeners.count
        summary.listenersOpened = next.boundSockets.count - keptListeners.count
        for case let l? in listeners where !keptListeners.contains(ObjectIdentifier(l)) {
            closeListener(l)
            summary.listenersClosed += 1
        }
        runtime = next
        maxConnections = newMaxConnections
        installListeners()
        resumeListenersBelowLimits()
        // Waiting sessions may fit now (a raised maxconn, a server with a new address): serve them.
        for b in next.backends { dispatchQueue(of: b) }
        reconcileChecks(previous: previous)

        forEachOpenSession { s in
            if s.frontend.isRemoved || s.backend?.isRemoved == true || s.server?.isRemoved == true {
                summary.sessionsOnRemovedObjects += 1
            }
        }
        if summary.sessionsOnRemovedObjects > 0, let ms = next.config.global.hardStopAfterMs {
            timers.schedule(retireTimer, at: clock.now + Int64(ms))
        }
        return summary
    }
}
