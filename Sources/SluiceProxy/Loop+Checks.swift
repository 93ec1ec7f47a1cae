// SPDX-License-Identifier: Apache-2.0
// Loop+Checks: active health checks in the loop, never blocking it. One timer per checked server: while idle it
// counts down to the next check, while a check runs it is that check's deadline. A check is a non-blocking
// connect registered with the poller (owner kind `.check`), then for check-ssl a TLS handshake, then for
// `option httpchk` one request and its status line; the connection then closes with a reset (no TIME_WAIT pile-up
// with 1,000 servers). Results drive HealthState; state changes are logged as HAProxy 2.6 logs them and the
// balancer is told. `observe layer4` counts the connection errors sessions report. Reload keeps a kept server's
// check (and state), starts new ones, stops removed ones.
import Glibc
import SluiceConfig
import SluiceCore
import SluiceTLS

/// The running checks by slot: the slot is the poller owner index and the timer index. Loop-thread only.
final class CheckTable {
    var checks: [HealthCheck?] = []
    var freeSlots: [Int] = []

    /// Number of running checks.
    var count: Int { checks.count - freeSlots.count }
}

extension Loop {
    // MARK: lifecycle

    /// Starts the checks of every server of the running configuration, their first runs spread over the
    /// shortest interval (HAProxy's `start_checks`: server i of n starts at min_inter * i / n).
    func startChecks() {
        var all: [HealthCheck] = []
        for b in runtime.backends {
            for s in b.servers { if let c = s.healthCheck, !c.isStarted { all.append(c) } }
        }
        startChecks(all)
    }

    private func startChecks(_ list: [HealthCheck]) {
        guard !list.isEmpty else { return }
        let minInterval = list.map { $0.state.intervalMs($0.plan.settings) }.min() ?? 0
        for (i, c) in list.enumerated() {
            let slot: Int
            if let free = checkTable.freeSlots.popLast() {
                slot = free
                checkTable.checks[slot] = c
            } else {
                slot = checkTable.checks.count
                checkTable.checks.append(c)
            }
            c.slot = slot
            c.timer = timers.allocate(token: TimerKind.check.token(slot))
            timers.schedule(c.timer, at: clock.now + Int64(minInterval * i / list.count))
        }
    }

    /// Stops a check for good: its connection closes, its timer and slot are freed.
    func stopCheck(_ c: HealthCheck) {
        closeCheckConnection(c)
        guard c.isStarted else { return }
        timers.release(c.timer)
        checkTable.checks[c.slot] = nil
        checkTable.freeSlots.append(c.slot)
        c.slot = -1
    }

    /// After a reload swapped the runtime: checks of removed servers stop (their fds close), kept servers keep
    /// theirs (state and schedule carry over; new settings apply from the next check, a shorter interval at
    /// once), servers that lost `check` are up again, and new checks start spread over their interval.
    func reconcileChecks(previous: Runtime) {
        for b in previous.backends {
            for s in b.servers where s.isRemoved {
                if let c = s.healthCheck { stopCheck(c) }
            }
        }
        var fresh: [HealthCheck] = []
        for b in runtime.backends {
            var usabilityChanged = false
            for s in b.servers {
                guard let c = s.healthCheck else { continue }
                if c.isRetired {
                    stopCheck(c)
                    s.healthCheck = nil
                    if !s.isUp {
                        s.isUp = true  // an unchecked server is up
                        usabilityChanged = true
                    }
                    continue
                }
                guard c.isStarted else {
                    fresh.append(c)
                    continue
                }
                if c.adoptPendingPlan() {
                    let at = clock.now + Int64(c.state.intervalMs(c.plan.settings))
                    if let due = timers.deadline(of: c.timer), due > at { timers.schedule(c.timer, at: at) }
                }
            }
            if usabilityChanged { b.balancer.serversChanged(b.servers) }
        }
        startChecks(fresh)
    }

    /// For the admin socket: `server.isInMaintenance` changed. The check runs now: it pauses (maintenance) or
    /// resumes, up but one failure from down, as HAProxy does when a server leaves maintenance.
    func checkMaintenanceChanged(_ server: Server) {
        guard let c = server.healthCheck, c.isStarted, c.phase == .idle else { return }
        timers.schedule(c.timer, at: clock.now)
    }

    // MARK: events

    /// The check's timer fired: start the next check, or the one in progress ran out of time.
    func checkTimerFired(slot: Int) {
        guard slot < checkTable.checks.count, let c = checkTable.checks[slot] else { return }
        switch c.phase {
        case .idle: beginCheck(c)
        case .connecting: checkFinished(c, .layer4Timeout)
        case .handshaking: checkFinished(c, .layer6Timeout)
        case .sending, .receiving: checkFinished(c, .layer7Timeout)
        }
    }

    /// Poller event on a check's connection.
    func checkEvent(slot: Int, events: IOEvents) {
        guard slot < checkTable.checks.count, let c = checkTable.checks[slot], c.fd.isValid else { return }
        switch c.phase {
        case .connecting:
            if c.isProbingConnect {
                // Speculative turn right after connect(): a second connect() says whether it finished (on
                // loopback it usually has), which saves registering with epoll and a wake-up per check.
                c.isProbingConnect = false
                switch Sys.connect(c.fd, to: c.plan.endpoint) {
                case .connected: checkConnected(c)
                case .inProgress: poller.pollSend(c.fd)
                case .failed(let err): checkFinished(c, .layer4Connection, info: .errno(err))
                }
                return
            }
            // Polled: writability is the kernel saying the connect finished; a failed one also reports EPOLLERR,
            // with the reason in SO_ERROR.
            if events.contains(.error), let err = Sys.pendingError(c.fd) {
                checkFinished(c, .layer4Connection, info: .errno(err))
            } else if events.contains(.writable) {
                checkConnected(c)
            } else if events.contains(.hangup) {
                checkFinished(c, .layer4Connection, info: .errno(Sys.pendingError(c.fd) ?? .connectionReset))
            } else {
                poller.pollSend(c.fd)
            }
        case .handshaking:
            stepCheckHandshake(c)
        case .sending:
            sendCheckRequest(c)
        case .receiving:
            readCheckResponse(c)
        case .idle:
            poller.stopBoth(c.fd)
        }
    }

    // MARK: one check

    private func beginCheck(_ c: HealthCheck) {
        let s = c.server
        if s.isInMaintenance {
            // `disabled` or maintenance: no check (HAProxy pauses it); look again after `inter`.
            c.isPaused = true
            timers.schedule(c.timer, at: clock.now + Int64(max(1, c.plan.settings.intervalMs)))
            return
        }
        if c.isPaused {
            c.isPaused = false
            let change = c.state.resumeAfterMaintenance()
            if change.transition == .wentUp {
                s.isUp = true
                s.backend.balancer.serversChanged(s.backend.servers)
            }
        }
        _ = c.adoptPendingPlan()
        c.startedAt = clock.now
        c.sentCount = 0
        c.receivedCount = 0
        let plan = c.plan
        let fd: FD
        do {
            fd = try Sys.socket(domain: plan.endpoint.socketDomain, type: CInt(SOCK_STREAM.rawValue))
        } catch {
            checkFinished(c, .socketError, info: .errno(error))
            return
        }
        // Close with a reset, never a FIN: a check every second to 1,000 servers would otherwise leave 60,000
        // sockets in TIME_WAIT and exhaust the ephemeral ports (HAProxy closes checks the same way).
        Sys.setLingerReset(fd)
        let result = Sys.connect(fd, to: plan.endpoint)
        if case .failed(let err) = result {
            Sys.close(fd)
            checkFinished(c, .layer4Connection, info: .errno(err))
            return
        }
        c.fd = fd
        c.phase = .connecting
        poller.register(fd, kind: .check, owner: UInt32(c.slot))
        timers.schedule(c.timer, at: clock.now + plan.startTimeoutMs)
        log.debug("check start", "slot", c.slot, "fd", Int(fd.rawValue))
        if result == .connected {
            checkConnected(c)
        } else {
            c.isProbingConnect = true
            poller.wantSend(fd)  // served in this same loop turn (a new fd), where it probes
        }
    }

    private func checkConnected(_ c: HealthCheck) {
        if let ms = c.plan.timeoutCheckMs {
            // `timeout check` counts from the established connection.
            timers.schedule(c.timer, at: clock.now + Int64(max(1, ms)))
        }
        if let context = c.plan.tlsContext {
            do {
                c.tls = try TLSConnection(context: context, fd: c.fd, serverName: c.plan.serverName)
            } catch {
                checkFinished(c, .layer6Response, info: .text(error.message))
                return
            }
            c.phase = .handshaking
            stepCheckHandshake(c)
        } else if c.plan.isHTTP {
            c.phase = .sending
            sendCheckRequest(c)
        } else {
            checkFinished(c, .layer4Passed)
        }
    }

    private func stepCheckHandshake(_ c: HealthCheck) {
        guard let tls = c.tls else { return }
        switch tls.handshake() {
        case .done:
            if c.plan.isHTTP {
                c.phase = .sending
                sendCheckRequest(c)
            } else {
                checkFinished(c, .layer6Passed)
            }
        case .wantRead:
            poller.stopSend(c.fd)
            poller.pollRecv(c.fd)
        case .wantWrite:
            poller.stopRecv(c.fd)
            poller.pollSend(c.fd)
        case .failed(let error):
            checkFinished(c, .layer6Response, info: .text(error.message))
        }
    }

    private func sendCheckRequest(_ c: HealthCheck) {
        let request = c.plan.request
        while c.sentCount < request.count {
            let result = request.withUnsafeBytes { all in
                checkSend(c, UnsafeRawBufferPointer(rebasing: all[c.sentCount...]))
            }
            switch result {
            case .processed(let n):
                c.sentCount += n
            case .wouldBlock:
                if c.tlsWantsOtherDirection { poller.pollRecv(c.fd) } else { poller.pollSend(c.fd) }
                return
            case .eof:
                checkFinished(c, .layer7Response, info: .text("connection closed while sending the request"))
                return
            case .failed(let err):
                checkFinished(c, .layer7Response, info: .errno(err))
                return
            }
        }
        c.phase = .receiving
        poller.stopSend(c.fd)
        // OpenSSL may already hold the answer (it came with the last handshake flight): try at once then.
        if let tls = c.tls, tls.hasPendingPlaintext { poller.wantRecv(c.fd) } else { poller.pollRecv(c.fd) }
    }

    private func readCheckResponse(_ c: HealthCheck) {
        guard let area = c.response else { return }
        while true {
            if c.receivedCount == area.count {
                checkFinished(c, .layer7Response, info: .text("no end of line in the first 256 bytes"))
                return
            }
            let room = UnsafeMutableRawBufferPointer(rebasing: area[c.receivedCount...])
            switch checkRecv(c, room) {
            case .processed(let n):
                let start = c.receivedCount
                c.receivedCount += n
                if let lf = UnsafeRawBufferPointer(area)[start..<c.receivedCount].firstIndex(of: 10) {
                    judgeStatusLine(c, length: lf)
                    return
                }
            case .wouldBlock:
                if c.tlsWantsOtherDirection { poller.pollSend(c.fd) } else { poller.pollRecv(c.fd) }
                return
            case .eof:
                let what = c.receivedCount == 0 ? "empty response" : "connection closed inside the status line"
                checkFinished(c, .layer7Response, info: .text(what))
                return
            case .failed(let err):
                checkFinished(c, .layer7Response, info: .errno(err))
                return
            }
        }
    }

    /// `HTTP/1.x NNN reason`: the code is judged by the backend's `http-check expect`.
    private func judgeStatusLine(_ c: HealthCheck, length: Int) {
        guard let area = c.response else { return }
        let line = UnsafeRawBufferPointer(area)
        var end = length
        if end > 0 && line[end - 1] == 13 { end -= 1 }
        func isDigit(_ i: Int) -> Bool { line[i] >= 48 && line[i] <= 57 }
        guard end >= 12, line[0] == 72, line[1] == 84, line[2] == 84, line[3] == 80, line[4] == 47, line[8] == 32,
            isDigit(9), isDigit(10), isDigit(11), end == 12 || line[12] == 32
        else {
            checkFinished(c, .layer7Response, info: .text("invalid HTTP status line"))
            return
        }
        let code = Int(line[9] - 48) * 100 + Int(line[10] - 48) * 10 + Int(line[11] - 48)
        let digits = UnsafeRawBufferPointer(rebasing: line[9..<12])
        let passes = c.plan.expect.passes(code: code, digits: digits, scratch: regexScratch)
        // HAProxy 2.6 quotes the reason phrase of a wrong status only (`info: "Internal Server Error"`).
        let info = passes ? CheckInfo.none : .reasonPhrase(min(13, end)..<end)
        checkFinished(c, passes ? .layer7Passed : .layer7Status, code: code, info: info)
    }

    // MARK: transport

    private func checkSend(_ c: HealthCheck, _ bytes: UnsafeRawBufferPointer) -> IOResult {
        guard let tls = c.tls else { return Sys.send(c.fd, from: bytes) }
        c.tlsWantsOtherDirection = false
        switch tls.write(from: bytes) {
        case .processed(let n): return .processed(n)
        case .wantWrite: return .wouldBlock
        case .wantRead:
            c.tlsWantsOtherDirection = true
            return .wouldBlock
        case .closed, .truncated: return .eof
        case .failed(let error): return .failed(error.systemError ?? Errno(rawValue: EPROTO))
        }
    }

    private func checkRecv(_ c: HealthCheck, _ buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        guard let tls = c.tls else { return Sys.recv(c.fd, into: buffer) }
        c.tlsWantsOtherDirection = false
        switch tls.read(into: buffer) {
        case .processed(let n): return .processed(n)
        case .wantRead: return .wouldBlock
        case .wantWrite:
            c.tlsWantsOtherDirection = true
            return .wouldBlock
        case .closed, .truncated: return .eof
        case .failed(let error): return .failed(error.systemError ?? Errno(rawValue: EPROTO))
        }
    }

    private func closeCheckConnection(_ c: HealthCheck) {
        c.tls = nil  // no close_notify: the connection ends with a reset anyway
        if c.fd.isValid {
            poller.delete(c.fd)
            c.fd = .invalid
        }
        c.phase = .idle
        c.isProbingConnect = false
        c.tlsWantsOtherDirection = false
    }

    // MARK: results

    /// A check ended: close its connection, move the health counter, log and apply a state change, and plan the
    /// next check after the interval the new state calls for.
    private func checkFinished(_ c: HealthCheck, _ status: CheckStatus, code: Int = 0, info: CheckInfo = .none) {
        let durationMs = clock.now - c.startedAt
        closeCheckConnection(c)
        log.debug("check done", "slot", c.slot, "status", Int(status.rawValue), "code", code)
        let change = status.isPassed ? c.state.recordPass() : c.state.recordFailure()
        report(c, change, status, code: code, info: info, durationMs: durationMs)
        _ = c.adoptPendingPlan()
        if c.isStarted {
            timers.schedule(c.timer, at: clock.now + Int64(max(1, c.state.intervalMs(c.plan.settings))))
        }
    }

    /// Logs what `change` calls for (HAProxy's `set_server_check_status` and `srv_update_status`) and applies a
    /// transition to the server and its backend.
    private func report(
        _ c: HealthCheck,
        _ change: HealthChange,
        _ status: CheckStatus,
        code: Int,
        info: CheckInfo,
        durationMs: Int64
    ) {
        let statusChanged = c.lastStatus != status
        c.lastStatus = status
        c.recordResult(code: code, info: info, durationMs: durationMs)
        if !status.isPassed && change.counterChanged { c.server.checkFailures += 1 }
        guard change.counterChanged || change.transition != .none || (statusChanged && c.plan.logsEveryChange) else {
            return
        }
        let s = c.server
        if c.plan.logsEveryChange && (change.counterChanged || statusChanged) {
            log.admin(
                .notice,
                "Health check for \(s.isBackup ? "backup " : "")server \(s.backend.name)/\(s.name) "
                    + "\(status.isPassed ? "succeeded" : "failed")"
                    + checkDetails(c, status, code: code, info: info, durationMs: durationMs)
                    + ", status: \(c.state.progressText).",
                stderrLevel: .warning
            )
        }
        switch change.transition {
        case .none:
            return
        case .wentDown, .wentUp:
            // With log-health-checks the check line above already said why (HAProxy does the same).
            let details =
                c.plan.logsEveryChange ? "" : checkDetails(c, status, code: code, info: info, durationMs: durationMs)
            setServerHealth(s, isUp: change.transition == .wentUp, details: details)
        }
    }

    /// `, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms`.
    private func checkDetails(_ c: HealthCheck, _ status: CheckStatus, code: Int, info: CheckInfo, durationMs: Int64)
        -> String
    {
        var text = ", reason: \(status.reason)"
        if status.hasCode { text += ", code: \(code)" }
        let infoText: String
        switch info {
        case .none: infoText = ""
        case .errno(let err): infoText = err.description
        case .text(let t): infoText = t
        case .reasonPhrase(let range):
            infoText = c.response.map { String(decoding: UnsafeRawBufferPointer($0)[range], as: UTF8.self) } ?? ""
        }
        if !infoText.isEmpty { text += ", info: \"\(Self.asciiEncoded(infoText))\"" }
        if status != .healthAnalyze && durationMs >= 0 { text += ", check duration: \(durationMs)ms" }
        return text
    }

    /// HAProxy's `chunk_asciiencode`: quotes, `<`, `>` and bytes that are not printable ASCII become `<HH>`.
    static func asciiEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if byte == 34 || byte == 60 || byte == 62 || byte < 32 || byte >= 127 {
                let hex: [Character] = Array("0123456789ABCDEF")
                out += "<\(hex[Int(byte >> 4)])\(hex[Int(byte & 15)])>"
            } else {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return out
    }

    /// A checked server goes down or up: the balancer learns it, the log says it (HAProxy's wording), sessions
    /// waiting in the backend queue get the server that came up, and the backend's last server going down
    /// raises "has no server available!".
    private func setServerHealth(_ s: Server, isUp: Bool, details: String) {
        let backend = s.backend
        let usableBefore = backend.servers.reduce(0) { $0 + ($1.isUsable ? 1 : 0) }
        s.isUp = isUp
        let now = Sys.wallClock().seconds
        if isUp {
            s.downtimeSeconds += max(0, now - s.downSinceSeconds)
        } else {
            s.checkDownTransitions += 1
            s.downSinceSeconds = now
        }
        s.lastStateChangeSeconds = now
        backend.balancer.serversChanged(backend.servers)
        var requeued = 0
        if isUp {
            // HAProxy's pendconn_grab_from_px: the queue drains onto the server that came back.
            while !backend.queue.isEmpty && s.isUsable {
                guard case .server(let target) = backend.balancer.pick(backend.servers, client: .none),
                    let next = backend.queue.popFirst()
                else { break }
                next.dequeued(to: target)
                requeued += 1
            }
        }
        var active = 0
        var backup = 0
        for other in backend.servers where other.isUsable {
            if other.isBackup { backup += 1 } else { active += 1 }
        }
        let onBackup = backup > 0 && active == 0 ? " Running on backup." : ""
        var text = "\(s.isBackup ? "Backup " : "")Server \(backend.name)/\(s.name) is \(isUp ? "UP" : "DOWN")\(details)"
        if isUp {
            text +=
                ". \(active) active and \(backup) backup servers online.\(onBackup)"
                + " \(requeued) sessions requeued, 0 total in queue."
            log.admin(.notice, text, stderrLevel: .warning)
        } else {
            text +=
                ". \(active) active and \(backup) backup servers left.\(onBackup)"
                + " \(s.currentConnections) sessions active, 0 requeued, 0 remaining in queue."
            log.admin(.alert, text, stderrLevel: .warning)
            if usableBefore > 0 && active + backup == 0 {
                // HAProxy's stderr wording (its syslog line drops the quotes; a listen section is a "proxy").
                let kind = backend.config.capabilities == .listen ? "proxy" : "backend"
                log.admin(.alert, "\(kind) '\(backend.name)' has no server available!")
            }
        }
    }

    // MARK: passive checks

    /// `observe layer4`: a session could not connect to `server` (refused, timed out, reset, TLS failure). At
    /// `error-limit` consecutive errors, runs `on-error` (HAProxy's `__health_adjust`) and, when `fastinter` is
    /// set, brings the next check forward to it.
    func observeServerError(_ server: Server) {
        guard let c = server.healthCheck, c.observesLayer4, c.isStarted, !server.isRemoved else { return }
        guard let count = c.state.observeError(limit: c.plan.settings.errorLimit) else { return }
        let action = c.plan.settings.onError
        if action != .fastInter {
            let change = c.state.applyOnError(action)
            let info = "Detected \(count) consecutive errors, last one was: L4 unsuccessful connection"
            report(c, change, .healthAnalyze, code: 0, info: .text(info), durationMs: -1)
        }
        if let fast = c.plan.settings.fastIntervalMs, c.phase == .idle {
            let at = clock.now + Int64(max(1, fast))
            if let due = timers.deadline(of: c.timer), due > at { timers.schedule(c.timer, at: at) }
        }
    }
}
