// SPDX-License-Identifier: Apache-2.0
// Session+HTTPLog: one access-log line per HTTP request in HAProxy's httplog format:
//   client:port [date] frontend backend/server TR/Tw/Tc/Tr/Ta status bytes - - term act/fe/be/srv/retries sq/bq "request"
// Built in the loop's reusable line buffer; the request line comes from the exchange's capture buffer.
import SluiceCore

extension Session {
    /// Writes the current exchange's httplog line to the frontend's log sinks.
    func logHTTPRequest() {
        let sinks = frontend.logSinks
        guard !sinks.isEmpty, !http.isLogged else { return }
        http.isLogged = true
        let now = clock.now
        var line = loop.takeLogLine()
        appendLogPrefix(
            &line,
            wallSeconds: http.startWallSeconds != 0 ? http.startWallSeconds : acceptWallSeconds,
            wallMillis: http.startWallSeconds != 0 ? http.startWallMillis : acceptWallMillis
        )
        // Answered before a backend was chosen: HAProxy logs the frontend in its place.
        line.append(backend?.name ?? frontend.name)
        line.append("/")
        line.append(http.serverName ?? server?.name ?? lastFailedServer?.name ?? "<NOSRV>")
        line.append(" ")
        let start = http.startTicks
        line.append(http.headTicks >= 0 ? Int(http.headTicks - start) : -1)
        line.append("/")
        line.append(httpQueueMs)
        line.append("/")
        line.append(httpConnectMs)
        line.append("/")
        line.append(httpResponseMs)
        line.append("/")
        line.append(Int(now - start))
        line.append(" ")
        line.append(http.status != 0 ? http.status : -1)
        line.append(" ")
        line.append(http.responseBytes)
        line.append(" - - ")
        line.append(byte: termination.cause)
        line.append(byte: termination.phase)
        line.append("-- ")
        appendLogCounters(&line, server: server ?? connectedServer)
        line.append(" \"")
        if capture.isAllocated && !capture.isEmpty {
            line.append(bytes: capture.readable)
        } else {
            line.append("<BADREQ>")
        }
        line.append("\"")
        line.withBytes { loop.log.access($0, level: .info, sinks: sinks) }
        loop.returnLogLine(line)
    }

    // The exchange's times as the log line (Tw/Tc/Tr) and the stats' averages (qtime/ctime/rtime) share them.

    /// Tw: time in the queue, -1 when the request never got as far as choosing a server.
    var httpQueueMs: Int {
        let reachedServer = connectStartTicks > 0 || http.requestSentTicks >= 0
        return queuedTicks > 0 && connectStartTicks >= queuedTicks
            ? Int(connectStartTicks - queuedTicks) : (reachedServer ? 0 : -1)
    }

    /// Tc: time to connect to the server (0 on a reused connection), -1 when no connection was made.
    var httpConnectMs: Int {
        connectedTicks >= 0 && connectStartTicks > 0
            ? Int(connectedTicks - connectStartTicks) : (http.requestSentTicks >= 0 ? 0 : -1)
    }

    /// Tr: from the request (or the connection, if later) to the response head, -1 when none came.
    var httpResponseMs: Int {
        http.responseHeadTicks >= 0 && http.headTicks >= 0
            ? Int(http.responseHeadTicks - max(http.headTicks, connectedTicks)) : -1
    }
}
