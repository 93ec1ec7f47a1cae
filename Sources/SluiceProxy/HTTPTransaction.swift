// SPDX-License-Identifier: Apache-2.0
// HTTPTransaction: the state of the request/response exchange in progress on an HTTP-mode session, as one plain
// value reset for every request of a keep-alive connection. Message heads themselves are parsed into the loop's
// shared HTTPHead tables and used within one event; only what outlives that event is kept here.
import SluiceCore
import SluiceHTTP

/// Where the request of the current exchange stands.
enum RequestPhase: UInt8 {
    /// Reading the request head (also: an idle keep-alive connection waiting for its next request).
    case awaitingHead
    /// Head forwarded; body bytes are being framed and forwarded.
    case forwardingBody
    /// The whole request was framed (and forwarded, or answered locally).
    case done
}

/// Where the response of the current exchange stands.
enum ResponsePhase: UInt8 {
    /// No response expected yet (request not forwarded).
    case idle
    /// Waiting for the response head (interim 1xx responses are forwarded while waiting).
    case awaitingHead
    /// Head forwarded; body bytes are being framed and forwarded.
    case forwardingBody
    /// The whole response was framed; it is done once the client has it.
    case done
}

/// The current exchange. Loop-thread only; stored behind the session's state pointer.
struct HTTPTransaction {
    var requestPhase = RequestPhase.awaitingHead
    var responsePhase = ResponsePhase.idle
    var method = HTTPMethod.get
    var requestVersion = HTTPVersion.http11
    var requestFramer = BodyFramer(.none)
    var responseFramer = BodyFramer(.none)
    /// Bytes at the front of the request buffer that belong to this request and may be sent to the server.
    var requestSendable = 0
    /// Bytes at the front of the response buffer that belong to this response and may be sent to the client.
    var responseSendable = 0
    /// Resume points of the incremental head parsers.
    var requestScanned = 0
    var responseScanned = 0
    /// Final response status (0 until known).
    var status = 0
    /// How the final response's body is delimited.
    var responseBodyLength = BodyLength.none
    /// The client connection may carry another request after this response.
    var clientKeepAlive = true
    /// The server connection may carry another request after this response.
    var serverKeepAlive = true
    /// The request asked to switch protocols (Upgrade), so a 101 makes the session a tunnel.
    var isUpgradeRequest = false
    /// sluice answers this request itself (error, deny, redirect, return): the client connection closes after.
    var isLocalResponse = false
    /// The request head carried a body-length conflict (CL with TE): the server connection closes after.
    var mustCloseServer = false

    // Timing (Ticks) for the log and for `timeout http-request`.
    var startTicks: Ticks = 0
    var headTicks: Ticks = -1
    var requestSentTicks: Ticks = -1
    var responseHeadTicks: Ticks = -1
    var startWallSeconds = 0
    var startWallMillis = 0
    /// Bytes received from the client for this request / sent to the client for this response.
    var requestBytes = 0
    var responseBytes = 0
    /// Requests served on this client connection so far.
    var requestCount = 0
    /// `balance uri`: the hashed request path, computed before the head is rewritten.
    var uriHash: UInt64?
    /// The server this exchange went to (for its log line, after the slot was freed).
    var serverName: String?
    /// A per-request `sni` (the backend's servers have one): its value for this request, computed with the
    /// request as the http-request rules left it; nil when the fetch found nothing (no SNI is sent then).
    var serverNameIndication: String?
    /// This exchange's log line was written.
    var isLogged = false
    /// Stats: this exchange was counted; a local answer larger than a buffer and how far it was sent
    /// (Session+Stats.swift).
    var isCounted = false
    var localBody: [UInt8] = []
    var localBodyOffset = 0

    /// Prepares for the next request on the same client connection (counts survive).
    mutating func resetForNextRequest(now: Ticks) {
        let count = requestCount
        self = HTTPTransaction()
        requestCount = count
        startTicks = now
    }
}
