// SPDX-License-Identifier: Apache-2.0
// The kinds of fd owners the proxy registers with the poller; the Loop's dispatcher switches over them.
import SluiceCore

extension OwnerKind {
    /// A listening socket; owner = index in Loop.listeners.
    static let listener = OwnerKind(rawValue: 1)
    /// The client side of a session; owner = session index.
    static let client = OwnerKind(rawValue: 2)
    /// The server side of a session; owner = session index.
    static let server = OwnerKind(rawValue: 3)
    /// The signalfd.
    static let signal = OwnerKind(rawValue: 4)
    /// An idle server connection in a server's pool; owner = slot in Loop.idleConnections.
    static let idleServer = OwnerKind(rawValue: 5)
    /// A `stats socket` listener; owner = index in Loop.adminListeners (AdminSocket.swift).
    static let adminListener = OwnerKind(rawValue: 16)
    /// An admin-socket (CLI) connection; owner = slot in Loop.adminConnections.
    static let adminConnection = OwnerKind(rawValue: 17)
    /// A health check's connection; owner = slot in Loop.checkTable (Loop+Checks).
    static let check = OwnerKind(rawValue: 8)
}

/// What a timer token means: the kind in the upper 32 bits, an index in the lower.
enum TimerKind: UInt64 {
    /// A session's single timer (timeouts, queue wait, retry delay); index = session index.
    case session = 1
    /// A listener paused after EMFILE/ENFILE/ENOMEM; index = listener index.
    case listenerResume = 2
    /// `hard-stop-after` during a soft stop.
    case hardStop = 3
    /// WATCHDOG=1 and STATUS= refresh.
    case service = 4
    /// `hard-stop-after` after a reload: close sessions on removed objects.
    case retire = 5
    /// Closes idle server connections that sat unused too long.
    case idlePurge = 6
    /// `stats timeout` of an admin-socket connection; index = its slot (AdminSocket.swift).
    case adminConnection = 16
    /// Once a second: the rates of the stats counters (StatsCounters.swift).
    case statsTick = 17
    /// A server's health check: next check, or the deadline of the one running; index = check slot.
    case check = 8

    func token(_ index: Int) -> UInt64 { (rawValue << 32) | UInt64(UInt32(truncatingIfNeeded: index)) }

    static func decode(_ token: UInt64) -> (TimerKind?, Int) {
        (TimerKind(rawValue: token >> 32), Int(UInt32(truncatingIfNeeded: token)))
    }
}
