// SPDX-License-Identifier: Apache-2.0
// Session+Inspect: TCP-mode content inspection (`tcp-request inspect-delay` with `tcp-request content` rules and
// content-based `use_backend`, e.g. SNI passthrough with req.ssl_sni): the client's first bytes are read and kept
// while the rules decide; once they do (or the delay expires and they decide with what they have), the backend
// is chosen and the kept bytes are forwarded first.
import SluiceCore

extension Frontend {
    /// True when connections must be inspected before a backend is chosen.
    var needsContentInspection: Bool {
        config.mode == .tcp && inspectDelayMs != nil && (!contentRules.isEmpty || !switches.isEmpty)
    }
}

extension Session {
    /// Reads client bytes while inspecting (they stay in the request buffer), then re-evaluates the rules.
    func receiveForInspection() {
        pool.attach(&request)
        request.compactIfUseful()
        let room = request.freeSpace
        guard room > 0 else {
            // The buffer is full and the rules still wait: decide with what is here.
            finishInspection(isFinal: true)
            return
        }
        switch clientRecv(request.writable) {
        case .processed(let n):
            request.produced(n)
            bytesFromClient += n
            clientActivity = clock.now
            if n < room { clientRecvShort() } else { poller.stopRecv(clientFD) }
            finishInspection(isFinal: false)
        case .wouldBlock:
            clientRecvBlocked()
        case .eof:
            clientReadClosed = true
            poller.stopRecv(clientFD)
            finishInspection(isFinal: true)
        case .failed:
            abort(TerminationState("C", "R"))
        }
    }

    /// Evaluates content rules and backend switching; with `isFinal` (delay over, buffer full, client done)
    /// fetches that wait for data answer with what they have.
    func finishInspection(isFinal: Bool) {
        guard isOpen, isInspecting else { return }
        var ctx = SampleContext(session: self, isFinal: isFinal)
        switch frontend.evaluateContent(&ctx) {
        case .wait:
            return
        case .reject:
            isInspecting = false
            termination = TerminationState("P", "R")
            close()
            return
        case .accept:
            break
        }
        var needsMore = false
        let chosen = frontend.selectBackend(&ctx, needsMore: &needsMore)
        if needsMore && !isFinal { return }
        isInspecting = false
        loop.log.debug("content inspection done", "session", index, "bytes", request.isAllocated ? request.count : 0)
        if chosen != nil && !clientReadClosed && !poller.isRecvEnabled(clientFD) { poller.wantRecv(clientFD) }
        forwardTCP(to: chosen)
    }
}
