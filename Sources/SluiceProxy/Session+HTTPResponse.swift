// SPDX-License-Identifier: Apache-2.0
// Session+HTTPResponse: the server side of an HTTP exchange. Parses the response head (interim 1xx responses are
// passed on and the final one awaited), applies http-response rules, rewrites the head for the client and
// streams the body through the framer. A 101 (or a 2xx to CONNECT) turns the session into a tunnel. A server
// that closes or answers garbage before the head is complete gets the client a 502.
import SluiceCore
import SluiceHTTP

extension Session {
    /// The server fd is readable in HTTP mode.
    func receiveFromServerHTTP() {
        guard serverFD.isValid else { return }
        if http.responsePhase == .idle || http.responsePhase == .done {
            // An idle kept connection: anything (data or FIN) means it cannot be reused.
            dropIdleServerConnection()
            return
        }
        pool.attach(&response)
        let awaitingHead = http.responsePhase == .awaitingHead
        let limit = awaitingHead ? Int(response.capacity) - loop.maxRewrite : Int(response.capacity)
        if response.count >= limit {
            if awaitingHead {
                respondWithError(502, TerminationState("P", "H"))
            } else {
                poller.stopRecv(serverFD)
            }
            return
        }
        let window = response.writable(holdingAtMost: limit)
        let room = window.count
        switch serverRecv(window) {
        case .processed(let n):
            response.produced(n)
            bytesFromServer += n
            serverActivity = clock.now
            if serverPhase == .connecting { markServerConnected() }
            if n < room { serverRecvShort() } else { poller.stopRecv(serverFD) }
            processServerInput()
        case .wouldBlock:
            serverRecvBlocked()
            pool.detach(&response)
        case .eof:
            serverReadClosed = true
            poller.stopRecv(serverFD)
            serverClosedInput()
        case .failed(let err):
            if !serverEstablished {
                connectFailed(err)
            } else if http.responsePhase == .awaitingHead && http.responseBytes == 0 {
                respondWithError(502, TerminationState("S", "H"))
            } else {
                abort(TerminationState("S", "D"))
            }
        }
    }

    /// The server sent FIN: it ends an until-close body; before a complete head it is a 502; in the middle of a
    /// delimited body the response is truncated and the client connection must close.
    private func serverClosedInput() {
        switch http.responsePhase {
        case .awaitingHead:
            if response.isAllocated && !response.isEmpty {
                // Try what we have: a head may have been complete only now.
                processServerInput()
                if isOpen && http.responsePhase == .awaitingHead {
                    respondWithError(502, TerminationState("S", "H"))
                }
            } else {
                respondWithError(502, TerminationState("S", "H"))
            }
        case .forwardingBody:
            if case .untilClose = http.responseBodyLength {
                http.responsePhase = .done
                http.serverKeepAlive = false
                http.clientKeepAlive = false
                releaseServerConnection(reusable: false)
                sendToClientHTTP()
            } else {
                // Truncated: deliver what arrived, then close so the client sees the truncation.
                http.clientKeepAlive = false
                http.responsePhase = .done
                termination = TerminationState("S", "D")
                releaseServerConnection(reusable: false)
                sendToClientHTTP()
            }
        case .idle, .done:
            dropIdleServerConnection()
        }
    }

    /// Parses and forwards what the response buffer holds.
    func processServerInput() {
        while isOpen {
            switch http.responsePhase {
            case .awaitingHead:
                guard parseResponseHead() else { return }
            case .forwardingBody:
                frameResponseBody()
                sendToClientHTTP()
                return
            case .idle, .done:
                return
            }
        }
    }

    /// Runs `rules` from the first, applying the recorded edits to the head whenever a rule must see them.
    /// An edited head that no longer fits or parses counts as a deny (502, as HAProxy answers a failed rewrite).
    private func evaluateResponseRules(
        _ rules: HTTPRules,
        _ head: HTTPHead,
        _ ctx: inout SampleContext,
        fromBackend: Bool
    ) -> ResponseDecision {
        var start = 0
        while true {
            let decision = rules.evaluateResponse(&ctx, edits: &loop.ruleEdits, fromBackend: fromBackend, from: start)
            guard case .applyEditsThenResume(let next) = decision else { return decision }
            guard applyResponseEdits(head, &ctx) else { return .deny }
            start = next
        }
    }

    /// Returns true when a head was processed and parsing should continue (interim response).
    private func parseResponseHead() -> Bool {
        guard response.isAllocated, !response.isEmpty, http.responseSendable == 0 else { return false }
        let head = loop.responseHead
        var scanned = http.responseScanned
        let result = HTTPHeadParser.parseResponse(
            response.readable,
            into: head,
            scanned: &scanned,
            maxHeadBytes: Int(response.capacity) - loop.maxRewrite
        )
        http.responseScanned = scanned
        switch result {
        case .incomplete:
            return false
        case .failed:
            respondWithError(502, TerminationState("P", "H"))
            return false
        case .complete:
            break
        }
        let bytes = response.readable
        var ctx = SampleContext(session: self, response: MessageView(head: head, bytes: bytes))
        if head.isInterimResponse {
            // 100 Continue and friends go to the client as they are; the final response follows.
            loop.ruleEdits.reset()
            guard let length = composeResponseHead(head, bytes: bytes, isInterim: true, &ctx) else {
                respondWithError(502, TerminationState("P", "H"))
                return false
            }
            http.responseSendable = length
            http.responseScanned = 0
            sendToClientHTTP()
            return isOpen && http.responseSendable == 0
        }
        http.responseHeadTicks = clock.now
        http.status = head.status
        server?.stats.responses.count(head.status)
        let length = head.responseBodyLength(requestMethod: http.method)
        http.responseBodyLength = length
        // A response that had both Content-Length and Transfer-Encoding is framed by chunked (the length is
        // dropped), and the server connection is not reused after it: a peer that framed it by the length
        // would disagree about where the next response starts (RFC 9112 §6.3).
        if head.connectionClose || head.version == .http10 && !head.connectionKeepAlive
            || head.hadContentLengthAndTransferEncoding
        {
            http.serverKeepAlive = false
        }
        switch length {
        case .untilClose:
            http.clientKeepAlive = false
            http.serverKeepAlive = false
        case .tunnel:
            if head.status == 101 && !http.isUpgradeRequest {
                respondWithError(502, TerminationState("P", "H"))
                return false
            }
        default:
            break
        }
        // Backend rules first, then the frontend's (HAProxy's order); a listen has one set.
        loop.ruleEdits.reset()
        var decision = ResponseDecision.proceed
        if let b = backend, b.config.capabilities == .backend, !b.rules.response.isEmpty {
            decision = evaluateResponseRules(b.rules, head, &ctx, fromBackend: true)
        }
        if case .proceed = decision, !frontend.rules.response.isEmpty {
            decision = evaluateResponseRules(frontend.rules, head, &ctx, fromBackend: false)
        }
        if case .deny = decision {
            // http-response deny (or an edit that no longer fits): HAProxy answers 502 to the client.
            respondWithError(502, TerminationState("P", "H"))
            return false
        }
        guard let newLength = composeResponseHead(head, bytes: response.readable, isInterim: false, &ctx) else {
            respondWithError(502, TerminationState("P", "H"))
            return false
        }
        http.responseSendable = newLength
        if case .tunnel = length {
            switchToTunnel()
            return false
        }
        http.responseFramer = BodyFramer(length)
        http.responsePhase = .forwardingBody
        return true
    }

    /// Feeds response bytes not yet framed to the framer; marks the response done at its end.
    func frameResponseBody() {
        guard http.responsePhase == .forwardingBody else { return }
        let unframed = response.count - http.responseSendable
        if unframed > 0 {
            let bytes = UnsafeRawBufferPointer(rebasing: response.readable[http.responseSendable...])
            switch http.responseFramer.feed(bytes) {
            case .consumed(let n):
                http.responseSendable += n
            case .done(let n):
                http.responseSendable += n
            case .failed:
                // Bad framing from the server: what was sent stands, the connection cannot continue.
                termination = TerminationState("S", "D")
                http.clientKeepAlive = false
                http.serverKeepAlive = false
                http.responsePhase = .done
                releaseServerConnection(reusable: false)
                return
            }
        }
        if http.responseFramer.isDone {
            http.responsePhase = .done
            if response.count > http.responseSendable {
                // Bytes after the response end: the server broke the protocol; never reuse it.
                http.serverKeepAlive = false
            }
            releaseServerConnection(reusable: http.serverKeepAlive && http.requestPhase == .done)
        }
    }

    /// Writes the sendable part of the response buffer to the client; finishes the exchange once the whole
    /// response is out.
    func sendToClientHTTP() {
        let pending = http.responseSendable
        if pending > 0 {
            let bytes = UnsafeRawBufferPointer(rebasing: response.readable.prefix(pending))
            switch clientSend(bytes) {
            case .processed(let n):
                response.consumed(n)
                http.responseSendable -= n
                http.responseBytes += n
                clientActivity = clock.now
                if n < pending {
                    clientSendBlocked()
                    return
                }
                poller.stopSend(clientFD)
                if response.isEmpty { pool.detach(&response) }
                if http.localBodyOffset < http.localBody.count {
                    sendMoreLocalBody()  // a local answer larger than a buffer (Session+Stats.swift)
                    return
                }
            case .wouldBlock:
                clientSendBlocked()
                return
            case .failed:
                abort(TerminationState("C", "D"))
                return
            case .eof:
                return
            }
        } else {
            poller.stopSend(clientFD)
        }
        if http.responsePhase == .done {
            finishExchange()
        } else if serverFD.isValid && !serverReadClosed && !poller.isRecvEnabled(serverFD) {
            // Room again in the response buffer.
            poller.wantRecv(serverFD)
        }
    }

    /// A 101 Switching Protocols (or 2xx to CONNECT) was forwarded: from now on the session relays bytes both
    /// ways like TCP mode, governed by `timeout tunnel`.
    private func switchToTunnel() {
        isHTTP = false
        http.responsePhase = .done
        http.requestPhase = .done
        // The tunnel data already buffered (after the head) is forwarded as TCP data from now on.
        sendToClient()
        guard isOpen else { return }
        if serverFD.isValid && !serverReadClosed { poller.wantRecv(serverFD) }
        if !clientReadClosed { poller.wantRecv(clientFD) }
        if request.isAllocated && !request.isEmpty { sendToServer() }
        if isOpen { armTimer() }
    }
}
