// SPDX-License-Identifier: Apache-2.0
// PollBackend: the seam between the Poller's state machine and the kernel. Release builds use EpollBackend;
// the unit tests use a fake that records every ctl call and returns scripted readiness. This protocol exists
// only as that test seam; the Poller is generic over it so that release code is specialised, not dynamic.

/// Readiness reported for one fd, or the directions an owner is being called for.
@frozen
public struct IOEvents: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8

    @inlinable
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Data (or EOF) can be read.
    public static let readable = IOEvents(rawValue: 1)
    /// Data can be written (or a connect finished).
    public static let writable = IOEvents(rawValue: 2)
    /// EPOLLERR: a pending socket error.
    public static let error = IOEvents(rawValue: 4)
    /// EPOLLHUP/EPOLLRDHUP: the peer is gone.
    public static let hangup = IOEvents(rawValue: 8)

    public var description: String {
        var parts: [String] = []
        if contains(.readable) { parts.append("in") }
        if contains(.writable) { parts.append("out") }
        if contains(.error) { parts.append("err") }
        if contains(.hangup) { parts.append("hup") }
        return parts.isEmpty ? "none" : parts.joined(separator: "|")
    }
}

/// The three epoll_ctl operations.
@frozen
public enum PollOperation: Sendable, Equatable {
    case add
    case modify
    case delete
}

/// What the Poller needs from the kernel: register interest, wait, and read back what was reported.
/// Implementations are used from the loop thread only.
public protocol PollBackend: AnyObject {
    /// Applies one interest change. `interest` holds only `.readable`/`.writable`; `data` is the token that
    /// `event(at:)` must return for this fd.
    func control(_ operation: PollOperation, fd: FD, interest: IOEvents, data: UInt64)

    /// Waits up to `timeoutMs` (0 = return at once, -1 = forever) for at most `maxEvents` events and returns how
    /// many are readable through `event(at:)`.
    func wait(maxEvents: Int, timeoutMs: Int32) -> Int

    /// The `index`th event of the last wait: readiness and the registered token.
    func event(at index: Int) -> (events: IOEvents, data: UInt64)
}
