// SPDX-License-Identifier: Apache-2.0
// Session+Log: the access-log line of a TCP session in HAProxy's tcplog format:
//   client:port [accept date] frontend backend/server Tw/Tc/Tt bytes termination act/fe/be/srv/retries sq/bq
// Built into the loop's reusable line buffer.
import SluiceCore

extension Session {
    /// Writes this session's tcplog line to its frontend's log sinks.
    func logConnection() {
        let sinks = frontend.logSinks
        guard !sinks.isEmpty else { return }
        let now = clock.now
        var line = loop.takeLogLine()
        appendLogPrefix(&line, wallSeconds: acceptWallSeconds, wallMillis: acceptWallMillis)
        line.append(backend?.name ?? "<NOSRV>")
        line.append("/")
        line.append(server?.name ?? lastFailedServer?.name ?? "<NOSRV>")
        line.append(" ")
        // Tw: queue wait; Tc: connect time; Tt: total. -1 when the phase was not reached.
        line.append(connectStartTicks > 0 ? tcpQueueMs : -1)
        line.append("/")
        line.append(connectedTicks >= 0 ? Int(connectedTicks - connectStartTicks) : -1)
        line.append("/")
        line.append(Int(now - acceptTicks))
        line.append(" ")
        line.append(bytesFromServer)
        line.append(" ")
        line.append(byte: termination.cause)
        line.append(byte: termination.phase)
        line.append(" ")
        appendLogCounters(&line, server: server)
        line.withBytes { loop.log.access($0, level: .info, sinks: sinks) }
        loop.returnLogLine(line)
    }

    /// The start both log formats share: `client:port [date] frontend `, the frontend with HAProxy's `~` when the
    /// client came in on an SSL bind (%ft).
    func appendLogPrefix(_ line: inout LineBuffer, wallSeconds: Int, wallMillis: Int) {
        line.appendAddress(client)
        line.append(":")
        line.append(Int(client.port))
        line.append(" [")
        LogClock.appendAcceptDate(seconds: wallSeconds, millis: wallMillis, into: &line)
        line.append("] ")
        line.append(frontend.name)
        if listener?.tlsContext != nil { line.append("~") }
        line.append(" ")
    }

    /// TCP mode's Tw: time in the backend queue before the connect started (0 without a queue).
    var tcpQueueMs: Int {
        max(0, queuedTicks > 0 && queuedTicks >= acceptTicks ? Int(connectStartTicks - queuedTicks) : 0)
    }

    /// The counters both log formats share: `actconn/feconn/beconn/srv_conn/retries srv_queue/backend_queue`.
    /// As in HAProxy, which logs once the session has left its
    /// backend and server, beconn and srv_conn do not count the session being logged (actconn and feconn do).
    func appendLogCounters(_ line: inout LineBuffer, server: Server?) {
        line.append(loop.activeSessions)
        line.append("/")
        line.append(frontend.currentConnections)
        line.append("/")
        line.append(max(0, (backend?.currentConnections ?? 0) - (backend != nil ? 1 : 0)))
        line.append("/")
        // `self.server` is set while this session holds a slot on it.
        line.append(max(0, (server?.currentConnections ?? 0) - (server != nil && server === self.server ? 1 : 0)))
        line.append("/")
        line.append(max(0, connectAttempts - 1))
        line.append(" 0/")
        line.append(backend?.queue.count ?? 0)
    }
}
