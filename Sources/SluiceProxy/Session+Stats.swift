// SPDX-License-Identifier: Apache-2.0
// Session+Stats: what a session adds to the stats counters (at the end of an HTTP exchange, when a server slot
// is freed, when the session closes: plain integer adds, no allocation), and the answers sluice gives itself
// for statistics: the `stats uri` page and `use-service prometheus-exporter`. Those answers may be larger than
// a buffer: the rest is kept in the exchange and fed to the response buffer as the client takes it.
import SluiceConfig
import SluiceCore
import SluiceHTTP

extension Session {
    // MARK: counting

    /// An HTTP exchange ended (or the session closes in the middle of one): requests, response classes and
    /// bytes go to the frontend, the backend and the process. Counted once per exchange.
    func countExchange() {
        guard !http.isCounted, http.requestBytes > 0 || http.status > 0 else { return }
        http.isCounted = true
        loop.process.requests &+= 1
        frontend.stats.requests &+= 1
        frontend.stats.bytesOut &+= http.responseBytes
        countClientBytes()
        if http.status > 0 { frontend.stats.responses.count(http.status) }
        if let b = backend {
            b.stats.requests &+= 1
            if http.status > 0 { b.stats.responses.count(http.status) }
        }
    }

    /// Client bytes not yet counted go to the frontend (per exchange in HTTP, at the end in TCP).
    func countClientBytes() {
        frontend.stats.bytesIn &+= bytesFromClient - countedClientBytes
        countedClientBytes = bytesFromClient
    }

    /// The session closes: a TCP session (or a tunnel) counts its bytes; an HTTP exchange in flight counts.
    func countClose() {
        if frontend.config.mode == .http {
            // A tunnel (after a 101) counts everything the server sent since the upgrade request.
            if !isHTTP { http.responseBytes = bytesFromServer }
            countExchange()
        } else {
            frontend.stats.bytesOut &+= bytesFromServer
        }
        countClientBytes()
    }

    /// Frees the slot on `s` after adding what went through it to its and its backend's counters.
    func releaseServerSlot(_ s: Server) {
        let toServer = isHTTP ? http.requestBytes : bytesFromClient
        s.stats.bytesIn &+= toServer
        s.stats.bytesOut &+= bytesFromServer
        s.stats.lastSessionTicks = clock.now
        if isHTTP { s.stats.requests &+= 1 }
        countOutcome(&s.stats)
        let times = exchangeTimes()
        if let times { s.stats.times.add(times) }
        if let b = backend {
            b.stats.bytesIn &+= toServer
            b.stats.bytesOut &+= bytesFromServer
            b.stats.lastSessionTicks = clock.now
            countOutcome(&b.stats)
            if let times { b.stats.times.add(times) }
        }
        loop.releaseServerSlot(s)
    }

    /// The times (ms) HAProxy averages in qtime/ctime/rtime/ttime for an exchange (HTTP) or a session (TCP, whose
    /// response time is 0); nil when the server was never connected or, in HTTP, sent no response head: HAProxy
    /// leaves those out (stream_update_time_stats).
    private func exchangeTimes() -> ExchangeTimes? {
        let now = clock.now
        if frontend.config.mode == .http {
            let connect = httpConnectMs
            let response = httpResponseMs
            guard connect >= 0, response >= 0 else { return nil }
            return (max(0, httpQueueMs), connect, response, Int(now - http.startTicks))
        }
        guard connectedTicks >= 0, connectStartTicks > 0 else { return nil }
        return (tcpQueueMs, Int(connectedTicks - connectStartTicks), 0, Int(now - acceptTicks))
    }

    /// Aborts and response errors, from the termination state (HAProxy's log letters).
    private func countOutcome(_ c: inout TrafficCounters) {
        switch (termination.cause, termination.phase) {
        case (UInt8(ascii: "C"), _), (UInt8(ascii: "c"), UInt8(ascii: "D")):
            c.clientAborts &+= 1
        case (UInt8(ascii: "S"), UInt8(ascii: "D")):
            c.serverAborts &+= 1
        case (UInt8(ascii: "S"), UInt8(ascii: "H")), (UInt8(ascii: "s"), UInt8(ascii: "H")),
            (UInt8(ascii: "P"), UInt8(ascii: "H")):
            c.responseErrors &+= 1
        default:
            break
        }
    }

    // MARK: answers for statistics

    /// When `page` covers this request (`stats uri` prefix), answers it: 401 without valid credentials, else
    /// the HTML page or the CSV. Returns false when the request is not for the page.
    func serveStatsPage(_ page: StatsPage, _ head: HTTPHead) -> Bool {
        let bytes = request.readable
        let target = UnsafeRawBufferPointer(rebasing: bytes[Int(head.target.start)..<Int(head.target.end)])
        guard page.matches(target) else { return false }
        frontend.stats.intercepted &+= 1
        let authorization = head.headerIndex(named: "authorization", in: bytes).map {
            UnsafeRawBufferPointer(rebasing: bytes[Int(head.value(at: $0).start)..<Int(head.value(at: $0).end)])
        }
        let closes = !http.clientKeepAlive || head.requestBodyLength() != .none
        guard page.authorizes(authorization) else {
            respondWithLargeMessage(page.unauthorizedResponse(close: closes), head, closes: closes)
            return true
        }
        let suffix = String(decoding: target.dropFirst(page.uriPrefix.utf8.count), as: UTF8.self)
        let options = StatsPageRequest(suffix: suffix)
        var rows = loop.statsRows()
        StatsRow.hideLegends(&rows)
        if options.onlyUp { rows.removeAll { $0.kind == .server && PrometheusExporter.stateLabel($0) != "UP" } }
        if options.hidesMaintenance { rows.removeAll { $0.kind == .server && $0["status"] == "MAINT" } }
        let refresh = options.refreshes ? page.refreshMs.map { max(1, $0 / 1000) } : nil
        let message: [UInt8]
        if options.isCSV {
            message = StatsResponse.ok(
                contentType: "text/plain",
                body: StatsCSV.render(rows),
                refreshSeconds: refresh,
                close: closes
            )
        } else {
            let html = StatsHTML.render(
                rows: rows,
                info: loop.infoLines(),
                refreshSeconds: refresh,
                version: page.hidesVersion ? nil : Daemon.version
            )
            message = StatsResponse.ok(contentType: "text/html", body: html, refreshSeconds: refresh, close: closes)
        }
        respondWithLargeMessage(message, head, closes: closes)
        return true
    }

    /// `http-request use-service <service>`.
    func serveService(_ service: HTTPService, _ head: HTTPHead) {
        frontend.stats.intercepted &+= 1
        let closes = !http.clientKeepAlive || head.requestBodyLength() != .none
        switch service {
        case .prometheusExporter:
            let body = PrometheusExporter.render(
                info: loop.infoLines(),
                rows: loop.statsRows(),
                version: Daemon.version
            )
            let message = StatsResponse.ok(
                contentType: PrometheusExporter.contentType,
                body: body,
                refreshSeconds: nil,
                close: closes
            )
            respondWithLargeMessage(message, head, closes: closes)
        }
    }

    /// Answers with `message` of any size: the first buffer now, the rest as the client takes it (see
    /// `sendMoreLocalBody`). The request head leaves the buffer when it has no body; otherwise the connection
    /// closes after the answer (its body is not read).
    private func respondWithLargeMessage(_ fullMessage: [UInt8], _ head: HTTPHead, closes: Bool) {
        var message = fullMessage
        if http.method == .head, let end = Self.headLength(of: message) { message.removeSubrange(end...) }
        let hasBody = head.requestBodyLength() != .none
        if !hasBody {
            http.requestPhase = .done
            request.consumed(min(head.headLength, request.count))
        }
        http.localBody = message
        http.localBodyOffset = min(message.count, loop.buffers.bufferSize)
        message.withUnsafeBytes {
            respondLocally(
                UnsafeRawBufferPointer(rebasing: $0.prefix(loop.buffers.bufferSize)),
                TerminationState("L", "R"),
                keepAlive: !closes && !hasBody
            )
        }
    }

    /// The length of a composed response's head (through the empty line), nil without one.
    static func headLength(of message: [UInt8]) -> Int? {
        guard message.count >= 4 else { return nil }
        for i in 0...(message.count - 4)
        where message[i] == 13 && message[i + 1] == 10 && message[i + 2] == 13 && message[i + 3] == 10 {
            return i + 4
        }
        return nil
    }

    /// The response buffer was sent whole and a local answer has more: the next part goes out now.
    func sendMoreLocalBody() {
        pool.attach(&response)
        let n = min(http.localBody.count - http.localBodyOffset, response.freeSpace)
        http.localBody.withUnsafeBytes { all in
            response.writable.copyMemory(
                from: UnsafeRawBufferPointer(rebasing: all[http.localBodyOffset..<(http.localBodyOffset + n)])
            )
        }
        response.produced(n)
        http.localBodyOffset += n
        http.responseSendable = n
        if http.localBodyOffset == http.localBody.count {
            http.localBody = []
            http.localBodyOffset = 0
        }
        sendToClientHTTP()
    }
}

extension Frontend {
    /// Reload: the frontend of the same name before it keeps counting from where it was.
    func inheritCounters(from old: Frontend) {
        stats = old.stats
        totalConnections = old.totalConnections
        deniedConnections = old.deniedConnections
    }
}

extension Backend {
    /// Reload: the backend of the same name before it keeps counting from where it was.
    func inheritCounters(from old: Backend) {
        stats = old.stats
        stats.maxQueue = max(stats.maxQueue, old.queue.maxCount)
        totalConnections = old.totalConnections
        deniedConnections = old.deniedConnections
    }
}

extension Loop {
    /// The stats timer fired (once a second): per-second rates from the running totals.
    func tickStatsRates() {
        process.connectionRate.tick(total: acceptedTotal)
        process.requestRate.tick(total: process.requests)
        for f in runtime.frontends {
            f.stats.sessionRate.tick(total: f.totalConnections)
            f.stats.requestRate.tick(total: f.stats.requests)
        }
        for b in runtime.backends {
            b.stats.sessionRate.tick(total: b.totalConnections)
            for s in b.servers { s.stats.sessionRate.tick(total: s.totalConnections) }
        }
    }
}
