// SPDX-License-Identifier: Apache-2.0
// SessionQueue: the FIFO of sessions waiting for a server slot in one backend, linked through the sessions
// themselves (no allocation to queue or dequeue).

/// An intrusive FIFO of sessions. Loop-thread only.
struct SessionQueue {
    private(set) var head: Session?
    private(set) var tail: Session?
    private(set) var count = 0
    /// The longest the queue has been (the stats' qmax).
    private(set) var maxCount = 0

    var isEmpty: Bool { head == nil }

    /// Appends `session`, which must not be queued anywhere.
    mutating func append(_ session: Session) {
        assert(!session.isQueued, "session \(session.index) queued twice")
        session.isQueued = true
        session.queuePrevious = tail
        session.queueNext = nil
        if let t = tail { t.queueNext = session } else { head = session }
        tail = session
        count += 1
        if count > maxCount { maxCount = count }
    }

    /// Removes and returns the oldest session.
    mutating func popFirst() -> Session? {
        guard let h = head else { return nil }
        remove(h)
        return h
    }

    /// Removes `session` from anywhere in the queue (a queue timeout or a client that left).
    mutating func remove(_ session: Session) {
        guard session.isQueued else { return }
        if let p = session.queuePrevious { p.queueNext = session.queueNext } else { head = session.queueNext }
        if let n = session.queueNext { n.queuePrevious = session.queuePrevious } else { tail = session.queuePrevious }
        session.queueNext = nil
        session.queuePrevious = nil
        session.isQueued = false
        count -= 1
    }
}
