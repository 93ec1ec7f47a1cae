// SPDX-License-Identifier: Apache-2.0
// HealthState: the rise/fall state machine of one checked server, as HAProxy 2.6 keeps it (check.c): one health
// counter in [0, rise + fall - 1]. Up while it is >= rise; a failure takes one off, and below rise it drops to 0
// (down); a success adds one, and at rise it jumps to rise + fall - 1 (fully up). Servers start at `rise`: up,
// but the first failure takes them down (HAProxy's default `init-state up`). Pure logic: no sockets, no clock.
import SluiceConfig

/// The outcome of one check, with HAProxy's names and texts (`check_statuses[]` in check.c).
enum CheckStatus: UInt8, Sendable {
    /// SOCKERR: no socket could be created.
    case socketError
    /// L4OK: the TCP connection was established (plain TCP check).
    case layer4Passed
    /// L4TOUT: no connection within the timeout.
    case layer4Timeout
    /// L4CON: refused, unreachable, reset while connecting.
    case layer4Connection
    /// L6OK: the TLS handshake completed (check-ssl without an HTTP check).
    case layer6Passed
    /// L6TOUT: the TLS handshake did not finish in time.
    case layer6Timeout
    /// L6RSP: the TLS handshake failed.
    case layer6Response
    /// L7TOUT: no HTTP status line in time.
    case layer7Timeout
    /// L7RSP: no valid HTTP status line (garbage, empty response, reset).
    case layer7Response
    /// L7OK: the status matched the expectation.
    case layer7Passed
    /// L7STS: the status did not match the expectation.
    case layer7Status
    /// HANA: passive checks (`observe layer4`) counted `error-limit` consecutive errors.
    case healthAnalyze

    /// True for the statuses that count as a successful check.
    var isPassed: Bool {
        self == .layer4Passed || self == .layer6Passed || self == .layer7Passed
    }

    /// HAProxy's `get_check_status_description`, the `reason:` of the state-change log lines.
    var reason: String {
        switch self {
        case .socketError: return "Socket error"
        case .layer4Passed: return "Layer4 check passed"
        case .layer4Timeout: return "Layer4 timeout"
        case .layer4Connection: return "Layer4 connection problem"
        case .layer6Passed: return "Layer6 check passed"
        case .layer6Timeout: return "Layer6 timeout"
        case .layer6Response: return "Layer6 invalid response"
        case .layer7Timeout: return "Layer7 timeout"
        case .layer7Response: return "Layer7 invalid response"
        case .layer7Passed: return "Layer7 check passed"
        case .layer7Status: return "Layer7 wrong status"
        case .healthAnalyze: return "Health analyze"
        }
    }

    /// Statuses past HAProxy's L57DATA carry the HTTP code (`, code: 200`).
    var hasCode: Bool { self == .layer7Passed || self == .layer7Status }

    /// HAProxy 2.6's HCHK_STATUS_* number (`show servers state` srv_check_status; 1 is INI, no result yet).
    var haproxyNumber: Int {
        switch self {
        case .healthAnalyze: return 4
        case .socketError: return 5
        case .layer4Passed: return 6
        case .layer4Timeout: return 7
        case .layer4Connection: return 8
        case .layer6Passed: return 9
        case .layer6Timeout: return 10
        case .layer6Response: return 11
        case .layer7Timeout: return 12
        case .layer7Response: return 13
        case .layer7Passed: return 15
        case .layer7Status: return 17
        }
    }

    /// HAProxy's `get_check_status_info`: the `check_status` column of the stats.
    var shortName: String {
        switch self {
        case .healthAnalyze: return "HANA"
        case .socketError: return "SOCKERR"
        case .layer4Passed: return "L4OK"
        case .layer4Timeout: return "L4TOUT"
        case .layer4Connection: return "L4CON"
        case .layer6Passed: return "L6OK"
        case .layer6Timeout: return "L6TOUT"
        case .layer6Response: return "L6RSP"
        case .layer7Timeout: return "L7TOUT"
        case .layer7Response: return "L7RSP"
        case .layer7Passed: return "L7OK"
        case .layer7Status: return "L7STS"
        }
    }
}

/// What one event did to a server's health.
struct HealthChange: Equatable, Sendable {
    enum Transition: Equatable, Sendable {
        case none
        /// Was up, is down now.
        case wentDown
        /// Was down, is up now.
        case wentUp
    }

    /// The health counter moved (what `option log-health-checks` logs).
    var counterChanged: Bool
    var transition: Transition

    static let nothing = HealthChange(counterChanged: false, transition: .none)
}

/// The health of one checked server. Loop-thread only (a plain value; the HealthCheck owns it).
struct HealthState: Equatable, Sendable {
    private(set) var rise: Int
    private(set) var fall: Int
    /// HAProxy's `check->health`: 0 = down, [1, rise) = going up, rise = up but one failure from down,
    /// (rise, rise + fall - 1) = going down, rise + fall - 1 = fully up.
    private(set) var health: Int
    /// The server's check-driven state (what it last logged).
    private(set) var isUp: Bool
    /// `observe layer4`: consecutive connection errors seen by live traffic.
    private(set) var consecutiveErrors = 0

    /// A server whose checks start now: up, one failure from down (HAProxy's `init-state up`, its default).
    init(rise: Int, fall: Int) {
        self.rise = max(1, rise)
        self.fall = max(1, fall)
        health = self.rise
        isUp = true
    }

    /// rise + fall - 1.
    var fullHealth: Int { rise + fall - 1 }

    /// Up with no failure pending.
    var isFullyUp: Bool { health == fullHealth }

    /// A check passed: one step up; at `rise` the server is (fully) up.
    mutating func recordPass() -> HealthChange {
        consecutiveErrors = 0
        var change = HealthChange.nothing
        if health < fullHealth {
            change.counterChanged = true
            health += 1
            if health >= rise { health = fullHealth }
        }
        if !isUp && health >= rise {
            isUp = true
            change.transition = .wentUp
        }
        return change
    }

    /// A check failed: one step down; below `rise` the server is down.
    mutating func recordFailure() -> HealthChange {
        var change = HealthChange.nothing
        if health > 0 {
            change.counterChanged = true
            health -= 1
            if health < rise { health = 0 }
        }
        if isUp && health == 0 {
            isUp = false
            change.transition = .wentDown
        }
        return change
    }

    /// The delay before the next check (HAProxy's `srv_getinter`): `inter` when fully up, `downinter` when down,
    /// `fastinter` in between (each defaulting to `inter`).
    func intervalMs(_ settings: HealthCheckSettings) -> Int {
        if isFullyUp { return settings.intervalMs }
        if health == 0 && !isUp { return settings.downIntervalMs ?? settings.intervalMs }
        return settings.fastIntervalMs ?? settings.intervalMs
    }

    /// `observe layer4`: live traffic saw a connection error. Returns the `on-error` action to run when this error
    /// reaches `limit` consecutive ones (the count then restarts), nil otherwise.
    mutating func observeError(limit: Int) -> Int? {
        consecutiveErrors += 1
        guard consecutiveErrors >= max(1, limit) else { return nil }
        let count = consecutiveErrors
        consecutiveErrors = 0
        return count
    }

    /// `observe layer4`: live traffic established a connection.
    mutating func observeSuccess() {
        consecutiveErrors = 0
    }

    /// Runs an `on-error` action (HAProxy's `__health_adjust`): `fastinter` changes nothing here (the caller
    /// brings the next check forward), `fail-check` counts one failed check, `sudden-death` leaves the server one
    /// failure from down and counts one, `mark-down` takes it down at once.
    mutating func applyOnError(_ action: OnErrorAction) -> HealthChange {
        switch action {
        case .fastInter:
            return .nothing
        case .failCheck:
            return recordFailure()
        case .suddenDeath:
            if health > rise { health = rise + 1 }
            return recordFailure()
        case .markDown:
            health = rise
            return recordFailure()
        }
    }

    /// Leaving maintenance: up but one failure from down, checked at once (HAProxy's `srv_update_status`).
    mutating func resumeAfterMaintenance() -> HealthChange {
        health = rise
        consecutiveErrors = 0
        guard !isUp else { return .nothing }
        isUp = true
        return HealthChange(counterChanged: true, transition: .wentUp)
    }

    /// A reload changed `rise` or `fall`: keeps the state (up or down) and how far along it is.
    mutating func adopt(rise newRise: Int, fall newFall: Int) {
        let newRise = max(1, newRise)
        let newFall = max(1, newFall)
        guard newRise != rise || newFall != fall else { return }
        if isUp {
            // Failures already counted against the old `fall` stay counted, short of taking the server down.
            let failures = fullHealth - health
            health = max(newRise, newRise + newFall - 1 - failures)
        } else {
            // Successes already counted stay counted, short of bringing the server up.
            health = min(health, newRise - 1)
        }
        rise = newRise
        fall = newFall
    }

    /// HAProxy's `status: 2/3 UP` suffix of `option log-health-checks` lines: progress towards the next state.
    var progressText: String {
        if health >= rise { return "\(health - rise + 1)/\(fall) UP" }
        return "\(health)/\(rise) DOWN"
    }
}
