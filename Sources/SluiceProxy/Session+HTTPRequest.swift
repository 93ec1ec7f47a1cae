// SPDX-License-Identifier: Apache-2.0
// Session+HTTPRequest: the client side of an HTTP-mode session. Reads request bytes, parses the head (leaving
// tune.maxrewrite free so the head can grow when rewritten), applies the frontend's rules, picks the backend and
// a server connection, rewrites the head (hop-by-hop headers out, rule edits and X-Forwarded-For in) and
// streams the body through the framer, which stops at the message end so pipelined requests wait their turn.
import SluiceConfig
import SluiceCore
import SluiceHTTP

extension Session {
    // MARK: reading

    /// The client fd is readable in HTTP mode.
    func receiveFromClientHTTP() {
        guard !clientReadClosed else {
            poller.stopRecv(clientFD)
            return
        }
        pool.attach(&request)
        // While the head is incomplete, keep tune.maxrewrite free for the rewrite that follows.
        let awaitingHead = http.requestPhase == .awaitingHead
        let limit = awaitingHead ? Int(request.capacity) - loop.maxRewrite : Int(request.capacity)
        if request.count >= limit {
            if awaitingHead && http.responsePhase == .idle {
                respondWithError(400, TerminationState("P", "R"))
            } else {
                poller.stopRecv(clientFD)
            }
            return
        }
        let window = request.writable(holdingAtMost: limit)
        let room = window.count
        switch clientRecv(window) {
        case .processed(let n):
            request.produced(n)
            bytesFromClient += n
            http.requestBytes += n
            clientActivity = clock.now
            if n < room { clientRecvShort() } else { poller.stopRecv(clientFD) }
            processClientInput()
        case .wouldBlock:
            clientRecvBlocked()
            pool.detach(&request)
        case .eof:
            clientReadClosed = true
            poller.stopRecv(clientFD)
            clientClosedInput()
        case .failed:
            abort(TerminationState("C", awaitingHead ? "R" : "D"))
        }
    }

    /// The client sent FIN. Between requests this ends the session; in the middle of a request it can never
    /// complete; after a complete request the response is still delivered.
    private func clientClosedInput() {
        switch http.requestPhase {
        case .awaitingHead:
            if request.isEmpty && (http.responsePhase == .idle || http.responsePhase == .done) {
                // An idle keep-alive connection (or one that never sent anything) ends quietly.
                if http.responsePhase == .idle { close() }
            } else if http.responsePhase == .idle {
                abort(TerminationState("C", "R"))
            }
        case .forwardingBody:
            abort(TerminationState("C", "D"))
        case .done:
            break
        }
    }

    /// Parses and forwards what the request buffer holds, as far as the exchange allows.
    func processClientInput() {
        switch http.requestPhase {
        case .awaitingHead:
            // A pipelined request waits until the previous response is delivered.
            guard http.responsePhase == .idle else { return }
            parseRequestHead()
        case .forwardingBody:
            frameRequestBody()
            sendToServerHTTP()
        case .done:
            break
        }
    }

    private func parseRequestHead() {
        guard request.isAllocated, !request.isEmpty else { return }
        if http.startWallSeconds == 0 {
            let wall = Sys.wallClock()
            http.startWallSeconds = wall.seconds
            http.startWallMillis = wall.microseconds / 1000
        }
        let head = loop.requestHead
        var scanned = http.requestScanned
        let result = HTTPHeadParser.parseRequest(
            request.readable,
            into: head,
            scanned: &scanned,
            maxHeadBytes: Int(request.capacity) - loop.maxRewrite
        )
        http.requestScanned = scanned
        switch result {
        case .incomplete:
            armTimer()
        case .failed(let error):
            loop.log.debug("invalid request", "session", index, "status", error.requestStatus)
            respondWithError(error.requestStatus, TerminationState("P", "R"))
        case .complete:
            startExchange(head)
        }
    }

    // MARK: a request head is in

    /// Rules, backend, rewrite, server choice, forwarding: everything that happens once per request.
    private func startExchange(_ head: HTTPHead) {
        http.headTicks = clock.now
        http.requestCount += 1
        http.method = head.method
        http.requestVersion = head.version
        http.isUpgradeRequest = head.connectionUpgrade && head.hasUpgradeHeader
        // Content-Length with Transfer-Encoding: chunked wins, and both connections close after the response
        // (RFC 9112 §6.3), so nothing a differently-parsing peer saw as a second request can follow.
        http.mustCloseServer = head.hadContentLengthAndTransferEncoding
        // A keep-alive connection follows the configuration running now: a reload changes its next request.
        if let l = listener, l.frontend !== frontend, !l.frontend.isRemoved {
            switchFrontend(to: l.frontend)
        }
        let clientAsksClose = head.connectionClose || (head.version == .http10 && !head.connectionKeepAlive)
        http.clientKeepAlive = !clientAsksClose && frontend.httpMode != .close && loop.stopMode == .running
            && !head.hadContentLengthAndTransferEncoding
        captureRequestLine(head)

        var ctx = SampleContext(session: self, request: MessageView(head: head, bytes: request.readable))
        loop.ruleEdits.reset()
        if !frontend.rules.request.isEmpty {
            guard let decision = evaluateRequestRules(frontend.rules, head, &ctx, fromBackend: false) else {
                respondWithError(500, TerminationState("P", "R"))
                return
            }
            if !applyRequestDecision(decision, head) { return }
        }
        // The stats URI and use_backend conditions see the request as the rules left it.
        if frontend.config.stats != nil || !frontend.switches.isEmpty, !applyRequestEdits(head, &ctx) {
            respondWithError(500, TerminationState("P", "R"))
            return
        }
        if let page = frontend.config.stats, serveStatsPage(page, head) { return }
        guard let chosen = frontend.selectBackend(&ctx) else {
            // No use_backend matched and there is no default_backend (PRODUCT.md: 404).
            respondWithError(404, TerminationState("P", "R"))
            return
        }
        // A pure backend's own http-request rules run once it is chosen (a listen's ran as its frontend's).
        if chosen.config.capabilities == .backend, !chosen.rules.request.isEmpty {
            let saved = backend
            backend = chosen  // rules and edits of this backend are looked up through `backend`
            let decision = evaluateRequestRules(chosen.rules, head, &ctx, fromBackend: true)
            backend = saved
            guard let decision else {
                respondWithError(500, TerminationState("P", "R"))
                return
            }
            if !applyRequestDecision(decision, head) { return }
        }
        if chosen.config.capabilities == .backend, let page = chosen.config.stats, serveStatsPage(page, head) { return }
        if backend !== chosen {
            backend?.currentConnections -= 1
            enterBackend(chosen)
        }
        // The SNI and `balance uri` read the request as the rules left it (`backend` is `chosen` now, so its
        // pending edits are found).
        if chosen.sniFetch != nil || chosen.config.balance.hashesURI, !applyRequestEdits(head, &ctx) {
            respondWithError(500, TerminationState("P", "R"))
            return
        }
        if let sni = chosen.sniFetch {
            http.serverNameIndication = sni.firstString(&ctx)
        }
        if chosen.config.balance.hashesURI {
            http.uriHash = LoadBalancer.hash(MessageView(head: head, bytes: request.readable).slice(head.pathRange))
        }
        let serverMode = HTTPConnectionMode.effective(frontend.httpMode, chosen.httpMode)
        http.serverKeepAlive = serverMode == .keepAlive && !http.mustCloseServer
        if serverMode == .close { http.clientKeepAlive = false }

        // Rewrite the head for the server, then frame whatever body bytes already arrived.
        let bodyLength = head.requestBodyLength()
        guard let newHeadLength = composeRequestHead(head, bytes: request.readable, backend: chosen, mode: serverMode, &ctx) else {
            respondWithError(500, TerminationState("P", "R"))
            return
        }
        http.requestSendable = newHeadLength
        http.requestFramer = BodyFramer(bodyLength)
        http.requestPhase = .forwardingBody
        http.responsePhase = .awaitingHead
        http.responseScanned = 0
        frameRequestBody()
        guard isOpen, !http.isLocalResponse else { return }
        retriesLeft = chosen.config.retries
        assignServerForRequest()
    }

    /// Acts on what request rules decided; false when the request was answered locally.
    /// Runs `rules` from the first, applying the recorded edits to the head whenever a rule must see them.
    /// nil when the edited head does not fit or does not parse (the caller answers 500).
    private func evaluateRequestRules(
        _ rules: HTTPRules,
        _ head: HTTPHead,
        _ ctx: inout SampleContext,
        fromBackend: Bool
    ) -> RequestDecision? {
        var start = 0
        while true {
            let decision = rules.evaluateRequest(&ctx, edits: &loop.ruleEdits, fromBackend: fromBackend, from: start, loop: loop)
            guard case .applyEditsThenResume(let next) = decision else { return decision }
            guard applyRequestEdits(head, &ctx) else { return nil }
            start = next
        }
    }

    private func applyRequestDecision(_ decision: RequestDecision, _ head: HTTPHead) -> Bool {
        // Keep the connection after a local answer only when no request body is left unread behind it.
        let hasBody = head.requestBodyLength() != .none
        // HAProxy's termination states: PR for a deny, LR for an answer sluice gives itself (return, redirect).
        func answer(_ bytes: UnsafeRawBufferPointer, closes: Bool, isDeny: Bool = false) {
            if isDeny { frontend.stats.deniedRequests &+= 1 } else { frontend.stats.intercepted &+= 1 }
            if !hasBody {
                // The request is fully handled here: its head leaves the buffer (pipelined bytes stay).
                http.requestPhase = .done
                request.consumed(min(head.headLength, request.count))
            }
            respondLocally(bytes, TerminationState(isDeny ? "P" : "L", "R"), keepAlive: !closes && !hasBody)
        }
        switch decision {
        case .proceed, .applyEditsThenResume:
            return true
        case .respond(let keepAliveMessage, let closeMessage, let isDeny):
            if hasBody || closeMessage == nil {
                (closeMessage ?? keepAliveMessage).withUnsafeBytes { answer($0, closes: true, isDeny: isDeny) }
            } else {
                keepAliveMessage.withUnsafeBytes { answer($0, closes: false, isDeny: isDeny) }
            }
        case .respondFromScratch(let count, let closes):
            answer(UnsafeRawBufferPointer(start: loop.headScratch, count: count), closes: closes)
        case .service(let service):
            serveService(service, head)
        }
        return false
    }

    /// Feeds request bytes not yet framed to the body framer: what belongs to this request becomes sendable;
    /// bytes after its end stay for the next request.
    func frameRequestBody() {
        guard http.requestPhase == .forwardingBody else { return }
        let unframed = request.count - http.requestSendable
        guard unframed > 0 || http.requestFramer.isDone else { return }
        if unframed > 0 {
            let bytes = UnsafeRawBufferPointer(rebasing: request.readable[http.requestSendable...])
            switch http.requestFramer.feed(bytes) {
            case .consumed(let n):
                http.requestSendable += n
            case .done(let n):
                http.requestSendable += n
            case .failed:
                respondWithError(400, TerminationState("P", "R"))
                return
            }
        }
        if http.requestFramer.isDone {
            http.requestPhase = .done
            // Nothing more to read for this request until its response is out (pipelined bytes wait).
        }
    }
}
