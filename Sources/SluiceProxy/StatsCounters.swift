// SPDX-License-Identifier: Apache-2.0
// StatsCounters: the traffic counters of frontends, backends, servers and the process that the stats page,
// `show stat`, `show info` and the Prometheus exporter report. The hot path only adds to plain integers (no
// allocation, no clock read); rates are derived once a second by the loop's stats timer from the totals, never
// per event. Rendering reads them through StatsSnapshot.
import SluiceCore

/// HTTP responses by status class (the CSV's hrsp_1xx ... hrsp_other).
struct StatusClassCounts: Equatable {
    var informational = 0
    var success = 0
    var redirection = 0
    var clientError = 0
    var serverError = 0
    var other = 0

    /// Counts one response with `status`.
    @inline(__always)
    mutating func count(_ status: Int) {
        switch status / 100 {
        case 1: informational &+= 1
        case 2: success &+= 1
        case 3: redirection &+= 1
        case 4: clientError &+= 1
        case 5: serverError &+= 1
        default: other &+= 1
        }
    }

    /// Every response counted.
    var total: Int { informational + success + redirection + clientError + serverError + other }
}

/// Events per second over the last full second, and the highest such value seen. Updated by `tick` from a
/// running total once a second (the loop's stats timer), so counting costs nothing on the hot path.
struct RateCounter: Equatable {
    private(set) var previousTotal = 0
    private(set) var current = 0
    private(set) var max = 0

    /// One second passed: the rate is what `total` grew by since the last tick.
    mutating func tick(total: Int) {
        current = Swift.max(0, total - previousTotal)
        previousTotal = total
        if current > max { max = current }
    }
}

/// HAProxy's time columns of a backend or server (stream_update_time_stats, swrate_*): the queue, connect,
/// response and total times in milliseconds (qtime, ctime, rtime, ttime) averaged over the exchanges so far up to
/// 1024, then over a sliding window of 1024 (each sample replaces 1/1024 of the sum), and their maxima.
/// One exchange's (HTTP) or session's (TCP) times in milliseconds, as the time columns average them.
typealias ExchangeTimes = (queue: Int, connect: Int, response: Int, total: Int)

struct TimeAverages: Equatable {
    /// One time column: the (sliding) sum and the maximum.
    struct Column: Equatable {
        private(set) var sum = 0
        private(set) var max = 0

        @inline(__always)
        mutating func add(_ value: Int, sliding: Bool) {
            if sliding { sum -= (sum + TimeAverages.window - 1) / TimeAverages.window }
            sum += value
            if value > max { max = value }
        }

        /// The average over `samples` (at most the window), rounded up as HAProxy's swrate_avg.
        func average(samples: Int) -> Int { (sum + samples - 1) / samples }
    }

    static let window = 1024
    /// Samples so far, up to the window.
    private(set) var samples = 0
    private(set) var queue = Column()
    private(set) var connect = Column()
    private(set) var response = Column()
    private(set) var total = Column()

    /// One exchange's times. Per exchange on the hot path: no allocation.
    @inline(__always)
    mutating func add(_ times: ExchangeTimes) {
        let sliding = samples == Self.window
        if !sliding { samples += 1 }
        queue.add(times.queue, sliding: sliding)
        connect.add(times.connect, sliding: sliding)
        response.add(times.response, sliding: sliding)
        total.add(times.total, sliding: sliding)
    }
}

/// The counters of one frontend, backend or server (a few only mean something for one kind, as in HAProxy's CSV).
/// Loop-thread only.
struct TrafficCounters: Equatable {
    /// smax: the highest number of concurrent sessions seen.
    var maxSessions = 0
    /// bin/bout: bytes received from clients / sent to them (frontends); sent to / received from servers
    /// (backends and servers).
    var bytesIn = 0
    var bytesOut = 0
    /// req_tot: HTTP requests received (frontends) or sent (backends, servers).
    var requests = 0
    /// dreq/dresp: requests denied by http-request rules, responses denied by http-response rules.
    var deniedRequests = 0
    var deniedResponses = 0
    /// ereq: requests that could not be parsed or arrived too late (400, 408).
    var requestErrors = 0
    /// eresp: the server's side of an exchange failed (invalid response, reset, timeout).
    var responseErrors = 0
    /// wretr/wredis: connection retries and redispatches.
    var retries = 0
    var redispatches = 0
    /// cli_abrt/srv_abrt: exchanges aborted by the client / by the server.
    var clientAborts = 0
    var serverAborts = 0
    /// intercepted: requests sluice answered itself (stats page, Prometheus, redirects, return).
    var intercepted = 0
    /// hrsp_*.
    var responses = StatusClassCounts()
    /// qmax: the longest queue seen by the backends of the same name before the last reload (the running one
    /// keeps its own in SessionQueue.maxCount).
    var maxQueue = 0
    /// When traffic last went through (lastsess); -1 = never.
    var lastSessionTicks: Ticks = -1
    /// rate/rate_max (sessions) and req_rate/req_rate_max.
    var sessionRate = RateCounter()
    var requestRate = RateCounter()
    /// qtime/ctime/rtime/ttime and their maxima (backends and servers).
    var times = TimeAverages()
    /// connect/reuse: new server connections attempted, and requests sent over one that already existed (the
    /// session's kept connection or one from the idle pool).
    var connects = 0
    var reuses = 0
    /// ssl_sess/ssl_reused_sess/ssl_failed_handshake: TLS handshakes completed (with a resumed session) and failed,
    /// with clients (frontends) or with servers (backends, servers).
    var tlsSessions = 0
    var tlsReusedSessions = 0
    var tlsFailedHandshakes = 0

    /// A TLS handshake ended: done (`resumed` or not), or failed.
    @inline(__always)
    mutating func countTLSHandshake(succeeded: Bool, resumed: Bool) {
        if succeeded {
            tlsSessions &+= 1
            if resumed { tlsReusedSessions &+= 1 }
        } else {
            tlsFailedHandshakes &+= 1
        }
    }

    /// A session started at `now`: `current` sessions are now open.
    @inline(__always)
    mutating func sessionStarted(current: Int, now: Ticks) {
        if current > maxSessions { maxSessions = current }
        lastSessionTicks = now
    }
}

/// Process-wide counters (`show info`, `sluice_process_*`). Loop-thread only.
struct ProcessCounters {
    /// Wall-clock second the process started at.
    let startSeconds: Int
    /// CumReq: HTTP requests received.
    var requests = 0
    /// Connections accepted on the admin sockets.
    var adminConnections = 0
    /// ConnRate/MaxConnRate, SessRate/MaxSessRate (the same here: every connection is a session).
    var connectionRate = RateCounter()
    var requestRate = RateCounter()

    init(startSeconds: Int) {
        self.startSeconds = startSeconds
    }
}
