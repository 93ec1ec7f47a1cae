// SPDX-License-Identifier: Apache-2.0
// Session: one client connection and (at most) one server connection, the two buffers between them, and the
// single timer that enforces every timeout. Session objects are pooled by the Loop and reused, so accepting a
// connection allocates nothing in steady state. This file owns the lifecycle (start, close, timer); the
// forwarding pumps and the server connection live in Session+Forwarding and Session+Connect.
import SluiceConfig
import SluiceCore
import SluiceTLS

/// Where the server side of a session stands.
enum ServerPhase: UInt8 {
    /// No server chosen yet.
    case none
    /// Waiting in the backend queue for a free slot.
    case queued
    /// Waiting for the turn-around delay before retrying a refused connection.
    case retryWait
    /// connect() in progress.
    case connecting
    /// Established.
    case connected
    /// The server connection is gone (closed after an error or at the end).
    case closed
}

/// Why a session ended, as HAProxy's two-letter termination state (first: who/what, second: which phase).
struct TerminationState {
    var cause: UInt8 = UInt8(ascii: "-")
    var phase: UInt8 = UInt8(ascii: "-")

    static let normal = TerminationState()

    init() {}

    init(_ cause: Character, _ phase: Character) {
        self.cause = cause.asciiValue!
        self.phase = phase.asciiValue!
    }
}

/// One proxied connection. Loop-thread only; pooled and reused by the Loop.
final class Session {
    /// Index in the Loop's session table: the poller owner id of both fds and the timer token.
    let index: Int
    unowned(unsafe) let loop: Loop
    /// The loop's parts used on every event, as plain values of raw pointers: reaching them through `loop`
    /// (a class reference) would cost a retain/release pair per use. The loop outlives every session.
    let poller: FDVerbs
    let pool: BufferLender
    let clock: ClockReader
    let timer: TimerID

    // Set for the lifetime of one connection.
    var isOpen = false
    var frontend: Frontend!
    var listener: Listener?
    var backend: Backend?
    /// The server whose connection slot this session holds (TCP: for the whole session; HTTP: per request).
    var server: Server?
    /// The server `serverFD` is connected to (HTTP keeps it across requests to reuse it).
    var connectedServer: Server?
    var clientFD = FD.invalid
    var serverFD = FD.invalid
    /// HTTP: the response is out and the connection is closing; client input is read and discarded.
    var isDraining = false
    /// TCP: waiting for content rules to decide (tcp-request inspect-delay); nothing is forwarded yet.
    var isInspecting = false
    var client = IPEndpoint.none
    var localAddress = IPEndpoint.none
    var hasLocalAddress = false

    /// Buffers and the HTTP exchange live behind a pointer allocated once per pooled Session: passing a stored
    /// class property inout (to the buffer pool, to a mutating method) costs a dynamic exclusivity check on every
    /// call (callgrind showed it).
    private let state: UnsafeMutablePointer<SessionState>

    /// client -> server bytes.
    var request: IOBuffer {
        get { state.pointee.request }
        _modify { yield &state.pointee.request }
    }

    /// server -> client bytes.
    var response: IOBuffer {
        get { state.pointee.response }
        _modify { yield &state.pointee.response }
    }

    /// The request line of the current HTTP exchange, kept for its log line (a pooled buffer, held only while
    /// an exchange is in flight and the frontend logs).
    var capture: IOBuffer {
        get { state.pointee.capture }
        _modify { yield &state.pointee.capture }
    }

    /// The current HTTP exchange (HTTP mode).
    var http: HTTPTransaction {
        get { state.pointee.http }
        _modify { yield &state.pointee.http }
    }

    /// HTTP mode, not (yet) switched to a tunnel by an Upgrade.
    var isHTTP = false

    /// TLS on the client side (`bind ... ssl`) and on the server side (`server ... ssl`); nil = raw socket.
    var clientTLS: TLSConnection?
    var serverTLS: TLSConnection?

    /// What the client-side / server-side TLS operations wait on.
    var clientWaits: TLSWaits {
        get { state.pointee.clientWaits }
        _modify { yield &state.pointee.clientWaits }
    }

    var serverWaits: TLSWaits {
        get { state.pointee.serverWaits }
        _modify { yield &state.pointee.serverWaits }
    }

    var serverPhase = ServerPhase.none
    /// The client sent FIN (or an error made reading pointless).
    var clientReadClosed = false
    /// We sent FIN to the client.
    var clientWriteClosed = false
    var serverReadClosed = false
    var serverWriteClosed = false
    /// The server connection carried data or was confirmed: failures are no longer connect failures.
    var serverEstablished = false

    var retriesLeft = 0
    /// Servers tried and refused, to steer a redispatch elsewhere.
    var lastFailedServer: Server?

    // Timers: the last activity of each side; the heap holds one deadline per session (lazily moved later).
    var clientActivity: Ticks = 0
    var serverActivity: Ticks = 0
    /// Deadline of the phase that has one (connect, queue, retry delay).
    var phaseDeadline: Ticks = 0

    // Log data.
    var acceptWallSeconds = 0
    var acceptWallMillis = 0
    var acceptTicks: Ticks = 0
    var queuedTicks: Ticks = 0
    var connectStartTicks: Ticks = 0
    var connectedTicks: Ticks = -1
    var bytesFromClient = 0
    var bytesFromServer = 0
    /// Client bytes already added to the frontend's counters (Session+Stats.swift).
    var countedClientBytes = 0
    var termination = TerminationState.normal
    var connectAttempts = 0

    // Queue links (SessionQueue).
    var isQueued = false
    var queueNext: Session?
    var queuePrevious: Session?

    init(index: Int, loop: Loop, timer: TimerID) {
        self.index = index
        self.loop = loop
        self.poller = loop.poller.verbs
        self.pool = loop.buffers.lender
        self.clock = loop.clock.reader
        self.timer = timer
        state = .allocate(capacity: 1)
        state.initialize(to: SessionState())
    }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
    }

    // MARK: lifecycle

    /// Starts a session for a just-accepted connection: registers the client fd (active for reading, so it is
    /// served in this very loop turn), applies connection rules, picks the backend and the server, connects.
    func start(clientFD fd: FD, peer: IPEndpoint, listener: Listener) {
        let now = clock.now
        isOpen = true
        self.listener = listener
        frontend = listener.frontend
        clientFD = fd
        client = peer
        acceptTicks = now
        clientActivity = now
        serverActivity = now
        let wall = Sys.wallClock()
        acceptWallSeconds = wall.seconds
        acceptWallMillis = wall.microseconds / 1000
        frontend.currentConnections += 1
        frontend.totalConnections += 1
        frontend.stats.sessionStarted(current: frontend.currentConnections, now: now)
        loop.poller.register(fd, kind: .client, owner: UInt32(index))
        if let context = listener.tlsContext, !startClientTLS(context) {
            close()
            return
        }
        loop.log.debug("accept", "session", index, "fd", Int(fd.rawValue), "frontend_conns", frontend.currentConnections)

        var ctx = SampleContext(session: self)
        guard frontend.acceptsConnection(&ctx) else {
            frontend.deniedConnections += 1
            termination = TerminationState("P", "R")
            close()
            return
        }
        if frontend.config.mode == .http {
            // HTTP: the backend is chosen per request, once its head is in.
            isHTTP = true
            http.startTicks = now
            poller.wantRecv(fd)
            armTimer()
            return
        }
        poller.wantRecv(fd)
        if frontend.needsContentInspection {
            // tcp-request content rules (SNI passthrough...): read and decide before choosing a backend.
            isInspecting = true
            phaseDeadline = now + (frontend.inspectDelayMs ?? 0)
            armTimer()
            return
        }
        if clientTLS != nil {
            // As HAProxy: the server connection waits for the client's TLS handshake (a plaintext client on a TLS
            // port never reaches a server).
            return
        }
        routeTCPConnection(&ctx)
    }

    /// TCP mode: picks the backend (use_backend / default_backend) and connects to a server.
    func routeTCPConnection(_ ctx: inout SampleContext) {
        forwardTCP(to: frontend.selectBackend(&ctx))
    }

    /// TCP mode: connects to a server of `chosen`. Without a backend nothing can serve this connection: HAProxy
    /// closes it, 'PR' in the log.
    func forwardTCP(to chosen: Backend?) {
        guard let chosen else {
            termination = TerminationState("P", "R")
            close()
            return
        }
        enterBackend(chosen)
        retriesLeft = chosen.config.retries
        assignServerAndConnect()
        if isOpen { armTimer() }
    }

    /// Makes `chosen` the session's backend and counts the session there (current, total, session rate).
    func enterBackend(_ chosen: Backend) {
        backend = chosen
        chosen.currentConnections += 1
        chosen.totalConnections += 1
        chosen.stats.sessionStarted(current: chosen.currentConnections, now: clock.now)
    }

    /// Ends the session: logs it, closes both fds through the poller, frees the server slot (handing it to the
    /// next queued session), returns buffers and gives the Session back to the pool.
    func close() {
        guard isOpen else { return }
        isOpen = false
        if frontend.logsConnections && !(frontend.config.dontLogNull && bytesFromClient == 0) {
            if frontend.config.mode == .http {
                // A request cut short is logged too (an idle keep-alive connection that ends is not).
                if http.requestBytes > 0 || http.responsePhase != .idle { logHTTPRequest() }
            } else {
                logConnection()
            }
        }
        countClose()
        if isQueued { backend?.queue.remove(self) }
        if isHTTP || isDraining { parkOrCloseServerConnection() }
        endTLS()
        if clientFD.isValid {
            loop.poller.delete(clientFD)
            clientFD = .invalid
        }
        closeServerConnection()
        pool.detach(&request, force: true)
        pool.detach(&response, force: true)
        pool.detach(&capture, force: true)
        loop.timers.cancel(timer)
        frontend.currentConnections -= 1
        if let b = backend { b.currentConnections -= 1 }
        loop.log.debug("close", "session", index, "frontend_conns", frontend.currentConnections)
        let endedFrontend = frontend!
        reset()
        loop.sessionEnded(self, frontend: endedFrontend)
    }

    /// Closes the server fd (if any) and frees the server slot.
    func closeServerConnection() {
        if serverFD.isValid {
            loop.poller.delete(serverFD)
            serverFD = .invalid
            connectedServer = nil
            serverTLS = nil
        }
        if let s = server {
            server = nil
            releaseServerSlot(s)
        }
        if serverPhase != .none { serverPhase = .closed }
    }

    /// Clears per-connection state for reuse.
    private func reset() {
        frontend = nil
        listener = nil
        backend = nil
        server = nil
        connectedServer = nil
        lastFailedServer = nil
        isHTTP = false
        isDraining = false
        isInspecting = false
        http = HTTPTransaction()
        serverPhase = .none
        clientReadClosed = false
        clientWriteClosed = false
        serverReadClosed = false
        serverWriteClosed = false
        serverEstablished = false
        hasLocalAddress = false
        bytesFromClient = 0
        bytesFromServer = 0
        countedClientBytes = 0
        connectedTicks = -1
        connectAttempts = 0
        termination = .normal
    }

    /// Closes the session on an error or timeout with the given termination state.
    func abort(_ state: TerminationState) {
        if termination.cause == UInt8(ascii: "-") { termination = state }
        close()
    }

    // MARK: timers

    /// The inactivity timeout of the client side now (client-fin once a direction is shut), or nil.
    private var clientTimeout: Int64? {
        if clientReadClosed || clientWriteClosed, let fin = frontend.clientFinTimeoutMs { return fin }
        if !isHTTP && serverPhase == .connected, let tunnel = backend?.config.timeouts.tunnel { return Int64(tunnel) }
        return frontend.clientTimeoutMs
    }

    /// The inactivity timeout of the server side now (server-fin once a direction is shut), or nil.
    private var serverTimeout: Int64? {
        guard let b = backend else { return nil }
        if serverReadClosed || serverWriteClosed, let fin = b.config.timeouts.serverFin { return Int64(fin) }
        if !isHTTP, let tunnel = b.config.timeouts.tunnel { return Int64(tunnel) }
        return b.config.timeouts.server.map(Int64.init)
    }

    /// HTTP, between requests or reading a head: the deadline of `timeout http-keep-alive` (idle, nothing of
    /// the next request yet) or `timeout http-request` (the whole head), each falling back as HAProxy does.
    private var headDeadline: (at: Ticks, isIdle: Bool)? {
        let t = frontend.config.timeouts
        let isIdle = http.requestCount > 0 && (!request.isAllocated || request.isEmpty)
        let ms = isIdle ? (t.httpKeepAlive ?? t.httpRequest ?? t.client) : (t.httpRequest ?? t.client)
        guard let ms else { return nil }
        return (http.startTicks + Int64(ms), isIdle)
    }

    /// HTTP: the client side is waited on (body still coming, or response bytes it has not taken). Once the
    /// request is in and nothing is waiting for the client, only the server's timeout runs, as in HAProxy.
    private var clientTimeoutApplies: Bool {
        !isHTTP || http.requestPhase == .forwardingBody || http.responseSendable > 0
    }

    /// HTTP: the server side is waited on (request bytes to send, response to receive).
    private var serverTimeoutApplies: Bool {
        serverPhase == .connected
            && (!isHTTP || http.requestSendable > 0 || http.responsePhase == .awaitingHead
                || http.responsePhase == .forwardingBody)
    }

    /// True while an HTTP session waits for (or reads) a request head with no exchange in flight.
    private var isAwaitingRequestHead: Bool {
        isHTTP && http.requestPhase == .awaitingHead && http.responsePhase == .idle
    }

    /// The earliest deadline that applies now, or nil for none.
    private func currentDeadline() -> Ticks? {
        var deadline: Ticks? = nil
        func consider(_ t: Ticks) { if deadline == nil || t < deadline! { deadline = t } }
        if isDraining || isInspecting { return phaseDeadline }
        if serverWaits.isHandshaking { consider(phaseDeadline) }
        if isAwaitingRequestHead { return headDeadline?.at }
        switch serverPhase {
        case .queued, .retryWait, .connecting:
            consider(phaseDeadline)
        default:
            break
        }
        if clientTimeoutApplies, let t = clientTimeout { consider(clientActivity + t) }
        if serverTimeoutApplies, let t = serverTimeout { consider(serverActivity + t) }
        return deadline
    }

    /// Makes sure the heap holds a deadline no later than the real one. Activity only moves deadlines later,
    /// which costs nothing here: the timer fires early and is re-armed (see `timerFired`).
    func armTimer() {
        guard let deadline = currentDeadline() else {
            loop.timers.cancel(timer)
            return
        }
        if let scheduled = loop.timers.deadline(of: timer), scheduled <= deadline { return }
        loop.timers.schedule(timer, at: deadline)
    }

    /// The session's timer fired: either a deadline really passed, or activity moved it and it is re-armed.
    func timerFired() {
        guard isOpen else { return }
        let now = clock.now
        if isDraining {
            if now >= phaseDeadline { close() } else { armTimer() }
            return
        }
        if isInspecting {
            if now >= phaseDeadline { finishInspection(isFinal: true) } else { armTimer() }
            return
        }
        if serverWaits.isHandshaking && serverTLS != nil && now >= phaseDeadline {
            serverTLS = nil
            serverWaits = TLSWaits()
            connectFailed(.timedOut)
            return
        }
        if isAwaitingRequestHead {
            if let d = headDeadline, now >= d.at {
                if d.isIdle {
                    close()  // an idle keep-alive connection simply ends
                } else if clientTLS != nil && clientWaits.isHandshaking {
                    // No 408 can be sent before the handshake is done (it would wait forever): log and close, as
                    // HAProxy does ("Timeout during SSL handshake").
                    loop.log.admin(
                        .info,
                        "\(client) -> \(frontend.name): SSL handshake failure: timeout during SSL handshake"
                    )
                    abort(TerminationState("c", "R"))
                } else {
                    respondWithError(408, TerminationState("c", "R"))
                }
            } else if let d = headDeadline {
                loop.timers.schedule(timer, at: d.at)
            }
            return
        }
        switch serverPhase {
        case .queued where now >= phaseDeadline:
            queueTimedOut()
            return
        case .retryWait where now >= phaseDeadline:
            retryNow()
            return
        case .connecting where now >= phaseDeadline:
            connectFailed(.timedOut)
            return
        default:
            break
        }
        if clientTimeoutApplies, let t = clientTimeout, now >= clientActivity + t {
            abort(TerminationState("c", serverPhase == .connected ? "D" : "C"))
            return
        }
        if serverTimeoutApplies, let t = serverTimeout, now >= serverActivity + t {
            if isHTTP && http.responsePhase == .awaitingHead && http.responseBytes == 0 {
                respondWithError(504, TerminationState("s", "H"))
            } else {
                abort(TerminationState("s", "D"))
            }
            return
        }
        if let deadline = currentDeadline() { loop.timers.schedule(timer, at: deadline) }
    }
}

/// What a Session keeps behind its state pointer.
struct SessionState {
    var request = IOBuffer.none
    var response = IOBuffer.none
    var capture = IOBuffer.none
    var http = HTTPTransaction()
    var clientWaits = TLSWaits()
    var serverWaits = TLSWaits()
}
