// SPDX-License-Identifier: Apache-2.0
// Loop: the one event loop of the process. Owns the poller, the clock, the timer heap, the buffer pool, the
// session pool and the listener table; dispatches poller events to their owners by kind, runs expired timers,
// keeps the global connection count (pausing and resuming listeners around `maxconn`) and drives stopping.
import Glibc
import SluiceConfig
import SluiceCore
import SluiceHTTP

/// How the process is stopping, if it is.
enum StopMode {
    case running
    /// SIGUSR1: listeners closed, sessions finishing.
    case soft
    /// Leave the loop now.
    case fast
}

/// The event loop. Created once; `run()` returns when the process should exit. Loop-thread only.
final class Loop: PollDispatcher {
    let poller: Poller<EpollBackend>
    let clock = Clock()
    let timers: TimerHeap
    let buffers: BufferPool
    let log: Logger
    let notifier: ServiceNotifier
    /// Global `maxconn` (a reload may change it within what the fd table allows).
    var maxConnections: Int
    /// `tune.maxaccept`.
    let maxAccept: Int
    /// `tune.maxrewrite`: room kept free in a buffer while a head is read, for its rewrite.
    let maxRewrite: Int

    // HTTP: message heads are parsed into these shared tables and used within one event.
    let requestHead = HTTPHead()
    let responseHead = HTTPHead()
    /// Where rewritten heads are composed (one head at a time, within one event).
    let headScratch: UnsafeMutablePointer<UInt8>
    let headScratchCapacity: Int
    /// Where converters (lower, upper) and composed samples write their result.
    let sampleScratch: UnsafeMutableRawBufferPointer
    /// Where a regex subject is copied with its terminating NUL (regexec needs a C string).
    let regexScratch: UnsafeMutableRawBufferPointer
    /// Editing rules that matched the message being processed.
    var ruleEdits = RuleEdits(capacity: 256)
    /// Idle server connections by slot (see Loop+IdlePool).
    var idleConnections: [IdleConnection?] = []
    var freeIdleSlots: [Int] = []
    var idleTimer: TimerID!
    /// Running health checks by slot (see Loop+Checks).
    let checkTable = CheckTable()
    var runtime: Runtime
    /// The `-f` arguments, read again on every reload.
    let configPaths: [String]
    /// Size of the fd table (the open-files limit at start): bounds maxconn on reload.
    let fdCapacity: Int
    /// When the last reload finished (wall-clock seconds) and how it went, for STATUS=.
    var lastReload: (seconds: Int, succeeded: Bool)?
    /// Runtimes replaced by reloads whose removed objects may still carry sessions (for `hard-stop-after`).
    var reloadCount = 0

    /// Sessions in progress (the global connection count).
    private(set) var activeSessions = 0
    /// Every Session ever created, by index, retained once here for the life of the process (sessions are
    /// pooled, never freed). A flat table of unmanaged references: dispatch reaches a session without an
    /// array bounds check, an exclusivity check or a retain/release pair per event.
    private let sessionTable: UnsafeMutablePointer<Unmanaged<Session>>
    private let sessionCapacity: Int
    private var sessionCount = 0
    private var freeSessions: [Int] = []
    private(set) var listeners: [Listener?] = []
    /// Listeners paused because the global maxconn was reached.
    private var globallyPaused: [Listener] = []

    private(set) var stopMode = StopMode.running
    private let hardStopTimer: TimerID
    /// Periodic housekeeping: WATCHDOG=1 and STATUS= updates.
    private let serviceTimer: TimerID
    /// Closes sessions still on objects a reload removed, `hard-stop-after` after that reload.
    let retireTimer: TimerID
    private var signalFD = FD.invalid
    private var spareLogLine: LineBuffer? = LineBuffer(capacity: 1024)
    /// Total connections accepted since start.
    private(set) var acceptedTotal = 0
    /// Stats and admin socket (StatsCounters.swift, AdminSocket.swift): process counters, the `stats socket`
    /// listeners and their connections, the once-a-second rate timer.
    var process = ProcessCounters(startSeconds: Sys.wallClock().seconds)
    var adminListeners: [AdminListener?] = []
    var adminConnections: [AdminConnection?] = []
    private(set) var statsTimer: TimerID!
    /// When the last resource alert was logged, and how many were suppressed since (one line per second).
    private var lastResourceAlert: Ticks = -1_000_000
    private var suppressedResourceAlerts = 0

    /// Builds the loop around an already bound runtime. `fdCapacity` sizes the fd table (the open-files limit).
    init(
        runtime: Runtime,
        configPaths: [String],
        log: Logger,
        notifier: ServiceNotifier,
        fdCapacity: Int,
        maxConnections: Int
    ) throws(Errno) {
        let global = runtime.config.global
        let backend = try EpollBackend(maxEvents: global.tune.maxPollEvents)
        poller = Poller(backend: backend, capacity: fdCapacity, maxPollEvents: global.tune.maxPollEvents)
        timers = TimerHeap(capacity: min(maxConnections, 65536) + 64)
        buffers = BufferPool(bufferSize: global.tune.bufferSize)
        self.log = log
        self.notifier = notifier
        self.maxConnections = maxConnections
        self.maxAccept = max(1, global.tune.maxAccept)
        self.maxRewrite = global.tune.maxRewrite
        headScratchCapacity = global.tune.bufferSize
        headScratch = .allocate(capacity: headScratchCapacity)
        sampleScratch = .allocate(byteCount: global.tune.bufferSize, alignment: 8)
        regexScratch = .allocate(byteCount: global.tune.bufferSize + 1, alignment: 8)
        self.runtime = runtime
        self.configPaths = configPaths
        self.fdCapacity = fdCapacity
        hardStopTimer = timers.allocate(token: TimerKind.hardStop.token(0))
        serviceTimer = timers.allocate(token: TimerKind.service.token(0))
        retireTimer = timers.allocate(token: TimerKind.retire.token(0))
        // Sessions never outnumber the fds they hold, so the fd table size bounds the session table.
        sessionCapacity = max(fdCapacity, 1)
        sessionTable = .allocate(capacity: sessionCapacity)
        freeSessions.reserveCapacity(min(maxConnections, sessionCapacity))
        idleTimer = timers.allocate(token: TimerKind.idlePurge.token(0))
        statsTimer = timers.allocate(token: TimerKind.statsTick.token(0))
        timers.schedule(statsTimer, at: clock.now + 1000)
    }

    /// A HeadBuilder over the scratch area (one head is composed at a time).
    func makeHeadBuilder() -> HeadBuilder {
        HeadBuilder(base: headScratch, capacity: headScratchCapacity)
    }

    deinit {
        for i in 0..<sessionCount { sessionTable[i].release() }
        sessionTable.deallocate()
        headScratch.deallocate()
        sampleScratch.deallocate()
        regexScratch.deallocate()
    }

    /// The session at `index` (loop-thread only; the table keeps it alive).
    @inline(__always)
    func session(_ index: Int) -> Session {
        sessionTable[index].takeUnretainedValue()
    }

    // MARK: set-up

    /// Registers every bound socket of the runtime as a listener. A socket kept from the previous runtime (reload)
    /// keeps its Listener, now serving the new frontend; a new one gets a Listener in a free slot.
    func installListeners() {
        for bound in runtime.boundSockets {
            if let kept = bound.keptListener {
                kept.frontend = bound.frontend
                kept.bind = bound.bind
                kept.tlsContext = bound.tlsContext  // new certificates apply to new connections
                bound.frontend.listeners.append(kept)
                // A pause for the old frontend's limit does not apply to the new one: try again.
                if kept.state == .pausedByLimit { resume(kept) }
                continue
            }
            let index = listeners.firstIndex(where: { $0 == nil }) ?? listeners.count
            let timer = timers.allocate(token: TimerKind.listenerResume.token(index))
            let listener = Listener(
                fd: bound.fd,
                address: bound.address,
                bind: bound.bind,
                frontend: bound.frontend,
                index: index,
                timer: timer
            )
            listener.tlsContext = bound.tlsContext
            if index == listeners.count { listeners.append(listener) } else { listeners[index] = listener }
            bound.frontend.listeners.append(listener)
            poller.register(bound.fd, kind: .listener, owner: UInt32(index), isShared: bound.isInherited)
            poller.pollRecv(bound.fd)
        }
        installAdminListeners()
    }

    /// Closes a listener for good (soft stop, or its address left the configuration on reload).
    func closeListener(_ l: Listener) {
        guard l.state != .closed else { return }
        l.state = .closed
        poller.delete(l.fd)
        timers.release(l.timer)
        if case .unix(let path) = l.address { Runtime.unlinkSocket(path) }
        listeners[l.index] = nil
        globallyPaused.removeAll { $0 === l }
    }

    /// Starts the periodic service timer (watchdog and status) when systemd listens.
    func startServiceTimer() {
        guard notifier.isEnabled else { return }
        timers.schedule(serviceTimer, at: clock.now + serviceIntervalMs)
    }

    /// Half the watchdog period when there is one (systemd's advice), else a 5 s status refresh.
    private var serviceIntervalMs: Int64 {
        if let usec = notifier.watchdogMicroseconds { return max(1, Int64(usec / 2000)) }
        return 5000
    }

    /// The one-line STATUS= summary.
    func statusLine() -> String {
        var text = "\(activeSessions) connections, \(runtime.frontends.count) frontends, \(runtime.backends.count) backends"
        if let last = lastReload {
            text += last.succeeded ? ", last reload ok" : ", last reload FAILED (previous configuration kept)"
            text += " at \(LogClock.isoTime(last.seconds))"
        }
        return text
    }

    /// Routes SIGTERM/SIGINT/SIGUSR1/SIGHUP/SIGUSR2/SIGTTOU/SIGTTIN through a signalfd in the poller.
    func installSignals(fd: FD) {
        signalFD = fd
        poller.register(fd, kind: .signal, owner: 0)
        poller.pollRecv(fd)
    }

    // MARK: running

    /// Turns the loop until a stop completes. Timers run after each turn, and whatever they registered is
    /// served before the next wait.
    func run() {
        while stopMode != .fast {
            let timeout = timers.timeoutMs(from: clock.now, max: 1000)
            poller.runTurn(self, timeoutMs: timeout)
            runTimers()
            poller.serveNewFDs(self)
        }
    }

    func pollerDidWait() {
        clock.update()
    }

    func dispatch(fd: FD, kind: OwnerKind, owner: UInt32, events: IOEvents) {
        switch kind {
        case .client:
            sessionTable[Int(owner)]._withUnsafeGuaranteedRef { $0.clientEvent(events) }
        case .server:
            sessionTable[Int(owner)]._withUnsafeGuaranteedRef { $0.serverEvent(events) }
        case .listener:
            listeners[Int(owner)]?.acceptBatch(loop: self)
        case .signal:
            handleSignals()
        case .idleServer:
            idleConnectionEvent(slot: Int(owner))
        case .adminListener:
            acceptAdminConnections(Int(owner))
        case .adminConnection:
            adminConnectionEvent(Int(owner), events)
        case .check:
            checkEvent(slot: Int(owner), events: events)
        default:
            assertionFailure("event for unknown owner kind \(kind.rawValue) on fd \(fd.rawValue)")
        }
    }

    private func runTimers() {
        while let (_, token) = timers.popExpired(now: clock.now) {
            let (kind, index) = TimerKind.decode(token)
            switch kind {
            case .session:
                sessionTable[index]._withUnsafeGuaranteedRef { $0.timerFired() }
            case .listenerResume:
                if let l = listeners[index], l.state == .pausedByResources { resume(l) }
            case .hardStop:
                log.admin(.warning, "hard-stop-after reached: closing \(activeSessions) remaining connections")
                stopMode = .fast
            case .service:
                if notifier.watchdogMicroseconds != nil { notifier.watchdog() }
                notifier.status(statusLine())
                timers.schedule(serviceTimer, at: clock.now + serviceIntervalMs)
            case .retire:
                closeSessionsOnRemovedObjects()
            case .idlePurge:
                purgeIdleConnections()
            case .adminConnection:
                adminConnectionTimedOut(index)
            case .statsTick:
                tickStatsRates()
                timers.schedule(statsTimer, at: clock.now + 1000)
            case .check:
                checkTimerFired(slot: index)
            case nil:
                assertionFailure("timer with unknown token \(token)")
            }
        }
    }

    // MARK: sessions

    /// Takes a pooled Session (or makes one) and starts it for an accepted connection.
    func startSession(clientFD: FD, peer: IPEndpoint, listener: Listener) {
        let session: Session
        if let i = freeSessions.popLast() {
            session = sessionTable[i].takeUnretainedValue()
        } else {
            guard sessionCount < sessionCapacity else {
                // Unreachable: every session holds an fd below the fd table size. Refuse rather than overflow.
                Sys.close(clientFD)
                return
            }
            let i = sessionCount
            session = Session(index: i, loop: self, timer: timers.allocate(token: TimerKind.session.token(i)))
            sessionTable[i] = Unmanaged.passRetained(session)
            sessionCount += 1
        }
        activeSessions += 1
        acceptedTotal += 1
        session.start(clientFD: clientFD, peer: peer, listener: listener)
    }

    /// A session closed: count it out, return it to the pool, resume listeners waiting for a slot, and finish a
    /// soft stop once the last one is gone.
    func sessionEnded(_ session: Session, frontend: Frontend) {
        activeSessions -= 1
        freeSessions.append(session.index)
        if frontend.isPausedByLimit && !frontend.isFull {
            frontend.isPausedByLimit = false
            for l in frontend.listeners where l.state == .pausedByLimit { resume(l) }
        }
        if !globallyPaused.isEmpty && activeSessions < maxConnections {
            for l in globallyPaused where l.state == .pausedByLimit && !l.frontend.isFull { resume(l) }
            globallyPaused.removeAll(keepingCapacity: true)
        }
        if stopMode == .soft && activeSessions == 0 {
            log.admin(.notice, "soft stop complete: all connections finished")
            stopMode = .fast
        }
    }

    /// A server connection slot freed: the oldest session queued on that backend gets a server now.
    func releaseServerSlot(_ server: Server) {
        server.currentConnections -= 1
        // A server a reload removed is no longer in any backend's list: its freed slot serves nobody.
        guard !server.isRemoved else { return }
        dispatchQueue(of: server.backend, limit: 1)
    }

    /// Hands free server slots to the oldest sessions waiting in `backend`'s queue, at most `limit` of them.
    func dispatchQueue(of backend: Backend, limit: Int = Int.max) {
        var served = 0
        while served < limit, !backend.queue.isEmpty {
            guard case .server(let s) = backend.balancer.pick(backend.servers, client: .none),
                let next = backend.queue.popFirst()
            else { return }
            next.dequeued(to: s)
            served += 1
        }
    }

    /// Lends the spare log line buffer (one log line is built at a time).
    func takeLogLine() -> LineBuffer {
        var line = spareLogLine ?? LineBuffer(capacity: 1024)
        spareLogLine = nil
        line.reset()
        return line
    }

    func returnLogLine(_ line: LineBuffer) { spareLogLine = line }

    /// Logs a resource shortage (no fd, no memory) at most once per second, counting what it suppressed, so
    /// that a process at its limits does not also flood its log.
    func resourceAlert(_ message: @autoclosure () -> String) {
        if clock.now - lastResourceAlert < 1000 {
            suppressedResourceAlerts += 1
            return
        }
        let suppressed = suppressedResourceAlerts
        lastResourceAlert = clock.now
        suppressedResourceAlerts = 0
        log.admin(.alert, message() + (suppressed > 0 ? " (\(suppressed) similar messages suppressed)" : ""))
    }

    // MARK: listeners

    func pauseForGlobalLimit(_ listener: Listener) {
        guard listener.state == .ready else { return }
        listener.state = .pausedByLimit
        poller.stopRecv(listener.fd)
        globallyPaused.append(listener)
        log.debug("listener paused: global maxconn reached", "sessions", activeSessions, "maxconn", maxConnections)
    }

    func pauseForFrontendLimit(_ frontend: Frontend) {
        frontend.isPausedByLimit = true
        for l in frontend.listeners where l.state == .ready {
            l.state = .pausedByLimit
            poller.stopRecv(l.fd)
        }
        log.debug("listeners paused: frontend maxconn reached", "connections", frontend.currentConnections)
    }

    /// EMFILE/ENFILE/ENOBUFS/ENOMEM: stop accepting on this listener for 100 ms instead of spinning on it.
    func pauseForResources(_ listener: Listener, _ err: Errno) {
        if !listener.hasLoggedExhaustion {
            log.admin(
                .alert,
                "Proxy \(listener.frontend.name) reached a system limit on \(listener.address) (accept: \(err)); "
                    + "pausing this listener for 100 ms"
            )
            listener.hasLoggedExhaustion = true
        }
        listener.state = .pausedByResources
        poller.stopRecv(listener.fd)
        timers.schedule(listener.timer, at: clock.now + 100)
    }

    /// A server socket could not be created for lack of descriptors or memory: pause every accepting listener for
    /// 100 ms, leaving new clients in the kernel backlog rather than accepting connections that cannot be served.
    func pauseAllListenersForResources(_ err: Errno) {
        for case let l? in listeners where l.state == .ready {
            l.state = .pausedByResources
            poller.stopRecv(l.fd)
            timers.schedule(l.timer, at: clock.now + 100)
        }
    }

    /// After a reload changed limits: listeners paused for the global maxconn resume if it now allows.
    func resumeListenersBelowLimits() {
        guard !globallyPaused.isEmpty, activeSessions < maxConnections else { return }
        for l in globallyPaused where l.state == .pausedByLimit && !l.frontend.isFull { resume(l) }
        globallyPaused.removeAll(keepingCapacity: true)
    }

    /// Puts a paused listener back to accepting, speculatively (the backlog usually holds connections).
    func resume(_ listener: Listener) {
        listener.state = .ready
        poller.wantRecv(listener.fd)
    }

    // MARK: signals and stopping

    private func handleSignals() {
        while let signal = Sys.readSignal(signalFD) {
            switch signal {
            case SIGTERM, SIGINT:
                log.admin(.notice, "received \(signal == SIGTERM ? "SIGTERM" : "SIGINT"): fast stop")
                stopFast()
            case SIGUSR1:
                log.admin(.notice, "received SIGUSR1: soft stop, \(activeSessions) connections to finish")
                stopSoft()
            case SIGHUP, SIGUSR2:
                log.admin(.notice, "received \(signal == SIGHUP ? "SIGHUP" : "SIGUSR2"): reloading the configuration")
                if stopMode == .running { reload() }
            case SIGTTOU:
                log.admin(.notice, "received SIGTTOU: pausing listeners")
                for case let l? in listeners where l.state != .closed {
                    l.state = .pausedBySignal
                    poller.stopRecv(l.fd)
                }
            case SIGTTIN:
                log.admin(.notice, "received SIGTTIN: resuming listeners")
                for case let l? in listeners where l.state == .pausedBySignal { resume(l) }
            default:
                break
            }
        }
        poller.pollRecv(signalFD)
    }

    /// Closes every listener (new connections are refused), lets sessions finish, exits when none is left or
    /// at `hard-stop-after`.
    func stopSoft() {
        guard stopMode == .running else { return }
        stopMode = .soft
        notifier.stopping()
        closeListeners()
        if let ms = runtime.config.global.hardStopAfterMs {
            timers.schedule(hardStopTimer, at: clock.now + Int64(ms))
        }
        if activeSessions == 0 {
            log.admin(.notice, "soft stop complete: no connection was in progress")
            stopMode = .fast
        }
    }

    /// Leaves the loop at the end of this turn; the process exit closes every socket.
    func stopFast() {
        if stopMode == .running { notifier.stopping() }
        stopMode = .fast
    }

    private func closeListeners() {
        for case let l? in listeners { closeListener(l) }
        globallyPaused.removeAll()
    }

    /// Every session in progress (reload bookkeeping; not for the hot path).
    func forEachOpenSession(_ body: (Session) -> Void) {
        for i in 0..<sessionCount {
            let s = sessionTable[i].takeUnretainedValue()
            if s.isOpen { body(s) }
        }
    }

    /// `hard-stop-after` elapsed after a reload: sessions still on a frontend or backend that reload removed
    /// are closed; the others run on.
    func closeSessionsOnRemovedObjects() {
        var closed = 0
        forEachOpenSession { s in
            if s.frontend.isRemoved || s.backend?.isRemoved == true || s.server?.isRemoved == true {
                s.abort(TerminationState("K", "D"))
                closed += 1
            }
        }
        if closed > 0 { log.admin(.notice, "hard-stop-after: closed \(closed) connections still on removed objects") }
    }
}
