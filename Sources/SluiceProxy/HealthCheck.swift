// SPDX-License-Identifier: Apache-2.0
// HealthCheck: one checked server's active check: what it does (a CheckPlan compiled with the configuration:
// target, TLS context, HTTP request bytes, expectation, timeouts), its health state, and the connection of the
// check in progress. The loop drives it (Loop+Checks); nothing here blocks. Steady state allocates nothing per
// check: the request bytes are built once, the response lands in a fixed 256-byte area owned by the check.
import SluiceConfig
import SluiceCore
import SluiceTLS

/// What an HTTP check's status must be.
enum CheckExpectation {
    /// No `http-check expect`: 2xx and 3xx pass (HAProxy's default).
    case successOrRedirect
    /// `http-check expect [!] status 200,300-399`.
    case status([ClosedRange<Int>], isNegated: Bool)
    /// `http-check expect [!] rstatus <regex>`, matched against the 3 digits.
    case statusRegex(CompiledRegex, isNegated: Bool)

    /// True when `code` passes. `digits` holds the code as text, `scratch` room for a regex subject.
    func passes(code: Int, digits: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer) -> Bool {
        switch self {
        case .successOrRedirect:
            return (200...399).contains(code)
        case .status(let ranges, let isNegated):
            return ranges.contains { $0.contains(code) } != isNegated
        case .statusRegex(let regex, let isNegated):
            return regex.matches(digits, scratch: scratch) != isNegated
        }
    }
}

/// A server's check as the configuration describes it. Immutable; a reload brings a new one.
struct CheckPlan {
    let settings: HealthCheckSettings
    /// Where checks connect: `addr`/`port` when set, else the server's address.
    let endpoint: IPEndpoint
    /// `check-ssl` (or `ssl` without `port`/`addr`): the client context checks handshake with.
    let tlsContext: TLSContext?
    let serverName: String?
    /// `option httpchk`: the complete request; empty for a TCP (or TLS-only) check.
    let request: [UInt8]
    let expect: CheckExpectation
    /// `timeout check` and `timeout connect` of the backend.
    let timeoutCheckMs: Int?
    let connectTimeoutMs: Int?
    /// `option log-health-checks`.
    let logsEveryChange: Bool

    var isHTTP: Bool { !request.isEmpty }

    /// Time a check may take from its start (HAProxy's `timeout check` rule): `inter` for the whole check when
    /// `timeout check` is not set; otherwise min(`inter`, `timeout connect`) to connect, then `timeout check`.
    var startTimeoutMs: Int64 {
        let inter = Int64(max(1, settings.intervalMs))
        if timeoutCheckMs != nil, let connect = connectTimeoutMs { return min(inter, Int64(max(1, connect))) }
        return inter
    }

    /// The HTTP request `option httpchk` and `http-check send` describe (HTTP/1.0 by default, no headers
    /// added, a Content-Length with a body).
    static func httpRequest(_ check: HTTPCheck) -> [UInt8] {
        var text = "\(check.method) \(check.uri) \(check.version)\r\n"
        for h in check.headers {
            // Constant values only (the parser refuses log-format ones): the literal, `%%` already unescaped.
            var value = ""
            for case .literal(let part) in h.value.parts { value += part }
            text += "\(h.name): \(value)\r\n"
        }
        if let body = check.body { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n"
        if let body = check.body { text += body }
        return Array(text.utf8)
    }
}

/// Where the check in progress stands.
enum CheckPhase: UInt8 {
    /// No connection: the timer counts down to the next check.
    case idle
    /// connect() in progress; the timer is the connect deadline.
    case connecting
    /// TLS handshake (check-ssl).
    case handshaking
    /// Writing the HTTP request.
    case sending
    /// Waiting for the HTTP status line.
    case receiving
}

/// Extra text for a check result's `info: "..."`, turned into a String only when a line is logged.
enum CheckInfo {
    case none
    case errno(Errno)
    case text(String)
    /// The reason phrase of the status line, at this range of the check's response area.
    case reasonPhrase(Range<Int>)
}

/// The active check of one server. Created with the configuration (not started); the loop starts it (a slot in
/// its check table, a timer), runs it, and stops it when the server leaves the configuration. Loop-thread only.
final class HealthCheck {
    /// The checked server. It owns this check, so it outlives it.
    unowned var server: Server
    private(set) var plan: CheckPlan
    /// A reload's plan, taken when the check in progress ends.
    var pendingPlan: CheckPlan?
    /// Set by a reload whose server line no longer has `check`: the loop stops the check.
    var isRetired = false
    var state: HealthState
    /// `observe layer4` (read on every established server connection: a stored flag).
    private(set) var observesLayer4: Bool

    /// Index in the loop's check table (the poller owner and timer index); -1 until started.
    var slot = -1
    var timer = TimerID(rawValue: 0)
    var fd = FD.invalid
    var phase = CheckPhase.idle
    var tls: TLSConnection?
    /// connect() answered EINPROGRESS and the fd is active, not polled: its next call probes with connect().
    var isProbingConnect = false
    /// The last TLS operation wanted the other direction (a read that needs to write, or the reverse).
    var tlsWantsOtherDirection = false
    /// The last check's status (`option log-health-checks` also logs a status change that moves no counter).
    var lastStatus: CheckStatus?
    /// The last check's HTTP code, duration (-1: none) and details, for the stats (check_code, check_duration,
    /// last_chk). A reason phrase is copied into `lastReasonPhrase` (capacity reserved once: no allocation).
    private(set) var lastCode = 0
    private(set) var lastDurationMs: Int64 = -1
    private(set) var lastInfo = CheckInfo.none
    private var lastReasonPhrase: [UInt8] = []
    private static let reasonPhraseCapacity = 64
    /// `disabled` / maintenance: checks are paused (HAProxy's CHK_ST_PAUSED).
    var isPaused = false
    /// When the check in progress started.
    var startedAt: Ticks = 0
    /// Request bytes written so far.
    var sentCount = 0
    /// The status line lands here (HTTP checks only); nil for TCP checks.
    private(set) var response: UnsafeMutableRawBufferPointer?
    var receivedCount = 0

    /// Room for the status line: `HTTP/1.1 200 ` plus a reason phrase of any reasonable length.
    static let responseCapacity = 256

    init(server: Server, plan: CheckPlan) {
        self.server = server
        self.plan = plan
        state = HealthState(rise: plan.settings.rise, fall: plan.settings.fall)
        observesLayer4 = plan.settings.observesLayer4
        response = plan.isHTTP ? .allocate(byteCount: Self.responseCapacity, alignment: 8) : nil
        lastReasonPhrase.reserveCapacity(Self.reasonPhraseCapacity)
    }

    /// Keeps what the stats show of the check that just ended. A reason phrase is copied out of the response
    /// area, which the next check overwrites.
    func recordResult(code: Int, info: CheckInfo, durationMs: Int64) {
        lastCode = code
        lastDurationMs = durationMs
        if case .reasonPhrase(let range) = info, let response {
            lastReasonPhrase.removeAll(keepingCapacity: true)
            let end = min(range.upperBound, range.lowerBound + Self.reasonPhraseCapacity)
            lastReasonPhrase.append(contentsOf: UnsafeRawBufferPointer(response)[range.lowerBound..<end])
            lastInfo = .reasonPhrase(0..<lastReasonPhrase.count)
        } else {
            lastInfo = info
        }
    }

    /// The last check's details as HAProxy's `last_chk` shows them ("Connection refused", a reason phrase).
    var lastInfoText: String {
        switch lastInfo {
        case .none: return ""
        case .errno(let err): return err.description
        case .text(let t): return t
        case .reasonPhrase(let range): return String(decoding: lastReasonPhrase[range], as: UTF8.self)
        }
    }

    deinit {
        response?.deallocate()
    }

    /// True when the check is registered with the loop.
    var isStarted: Bool { slot >= 0 }

    /// Takes a reload's plan between two checks. Returns false (and keeps it pending) while one runs.
    func adoptPendingPlan() -> Bool {
        guard let next = pendingPlan, phase == .idle else { return false }
        pendingPlan = nil
        if next.isHTTP && response == nil {
            // A TCP check became an HTTP check: its response area, once (reload time, not per check).
            response = .allocate(byteCount: Self.responseCapacity, alignment: 8)
        }
        plan = next
        observesLayer4 = next.settings.observesLayer4
        state.adopt(rise: next.settings.rise, fall: next.settings.fall)
        return true
    }
}

extension Server {
    /// `observe layer4`: an established server connection clears the count of consecutive errors. Called on
    /// every connection a session establishes, so it costs two loads when the server is not observed.
    @inline(__always)
    func observedConnection() {
        if let c = healthCheck, c.observesLayer4 { c.state.observeSuccess() }
    }

    /// Reload: this kept server takes the check the new configuration describes for it (`fresh` is the server
    /// object the new configuration built for the same line). The loop finishes the job in `reconcileChecks`.
    func adoptHealthCheck(from fresh: Server) {
        switch (healthCheck, fresh.healthCheck) {
        case (nil, nil):
            break
        case (nil, let new?):
            new.server = self
            healthCheck = new
        case (let running?, let new?):
            running.isRetired = false
            running.pendingPlan = new.plan
        case (let running?, nil):
            running.isRetired = true
        }
    }
}

extension RuntimeCompiler {
    /// Compiles the checks of `backend`'s servers (`check` on the server line): target, TLS context, HTTP request
    /// and expectation. Errors (a bad regex, a TLS context OpenSSL refuses) are collected with file:line.
    mutating func compileChecks(of backend: Backend) {
        let p = backend.config
        var request: [UInt8] = []
        var expect = CheckExpectation.successOrRedirect
        if let http = p.httpCheck {
            request = CheckPlan.httpRequest(http)
            if let e = http.expect {
                switch e.match {
                case .status(let ranges):
                    expect = .status(ranges, isNegated: e.isNegated)
                case .statusRegex(let pattern):
                    guard let regex = CompiledRegex(pattern, ignoreCase: false) else {
                        errors.append(ConfigError(e.location, "invalid regex '\(pattern)'"))
                        return
                    }
                    expect = .statusRegex(regex, isNegated: e.isNegated)
                }
            }
        }
        for s in backend.servers where s.config.options.check.isEnabled {
            let options = s.config.options
            let check = options.check
            var endpoint = s.endpoint
            if let address = check.address {
                endpoint = Runtime.endpoint(for: address)
                if endpoint.port == 0 { endpoint.port = s.endpoint.port }
            }
            if let port = check.port { endpoint.port = port }
            // HAProxy: without `port`/`addr`, checks use the traffic's transport (`ssl` brings TLS checks).
            let usesTLS = check.usesTLS || (options.usesTLS && check.port == nil && check.address == nil)
            var context: TLSContext? = nil
            if usesTLS {
                context = s.tlsContext ?? serverContext(options.tls, location: s.config.location)
                if context == nil { continue }
            }
            let plan = CheckPlan(
                settings: check,
                endpoint: endpoint,
                tlsContext: context,
                serverName: s.sniName ?? Runtime.constantSNI(options.tls.sni),
                request: request,
                expect: expect,
                timeoutCheckMs: p.timeouts.check,
                connectTimeoutMs: p.timeouts.connect,
                logsEveryChange: p.logsHealthChecks
            )
            s.healthCheck = HealthCheck(server: s, plan: plan)
        }
    }
}
