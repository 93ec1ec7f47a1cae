// SPDX-License-Identifier: Apache-2.0
// FDVerbs: the owner-facing verbs of the poller (want/poll/stop per direction) as a value holding three raw
// pointers into the Poller's fd table, update list and counters. Sessions keep a copy and call it on every
// event without touching a class reference (no retain/release, no exclusivity check). The verbs only flip bits
// and append to the update list; the Poller alone talks to the kernel, at flush time.

/// Counters shared by the Poller and its verbs.
@frozen
public struct PollerCounts {
    @usableFromInline var updateCount = 0
    @usableFromInline var cacheCount = 0
    /// While the cache is walked: entries [0, walked) have been served this turn (the one being served
    /// included). 0 outside the walk, where a removal is a plain "move the last entry into the hole".
    @usableFromInline var walked = 0
    @usableFromInline var newCount = 0

    @inlinable
    init() {}
}

/// The poller's owner verbs. Valid as long as the Poller that made it; loop-thread only. Each verb changes one
/// direction, returns early when nothing changes, and otherwise puts the fd on the update list once.
@frozen
public struct FDVerbs {
    @usableFromInline let table: UnsafeMutablePointer<FDEntry>
    @usableFromInline let updates: UnsafeMutablePointer<Int32>
    @usableFromInline let counts: UnsafeMutablePointer<PollerCounts>

    @inlinable
    init(
        table: UnsafeMutablePointer<FDEntry>,
        updates: UnsafeMutablePointer<Int32>,
        counts: UnsafeMutablePointer<PollerCounts>
    ) {
        self.table = table
        self.updates = updates
        self.counts = counts
    }

    /// Try to receive without waiting: sets A for recv. Used when a buffer has room again, on a new
    /// connection, or when a handshake step wants to read.
    @inlinable
    public func wantRecv(_ fd: FD) { setActive(fd, FDState.recvActive) }

    /// Try to send without waiting: sets A for send.
    @inlinable
    public func wantSend(_ fd: FD) { setActive(fd, FDState.sendActive) }

    /// recv hit EAGAIN: wait for the kernel. Leaves P only for recv.
    @inlinable
    public func pollRecv(_ fd: FD) { setPolled(fd, active: FDState.recvActive, polled: FDState.recvPolled) }

    /// send hit EAGAIN: wait for the kernel. Leaves P only for send.
    @inlinable
    public func pollSend(_ fd: FD) { setPolled(fd, active: FDState.sendActive, polled: FDState.sendPolled) }

    /// Not interested in receiving (buffer full, or the direction is finished).
    @inlinable
    public func stopRecv(_ fd: FD) { clear(fd, FDState.recvActive | FDState.recvPolled) }

    /// Not interested in sending.
    @inlinable
    public func stopSend(_ fd: FD) { clear(fd, FDState.sendActive | FDState.sendPolled) }

    /// Not interested in either direction.
    @inlinable
    public func stopBoth(_ fd: FD) { clear(fd, FDState.currentMask) }

    /// True when recv is active or polled for `fd`.
    @inlinable
    public func isRecvEnabled(_ fd: FD) -> Bool {
        table[Int(fd.rawValue)].state & (FDState.recvActive | FDState.recvPolled) != 0
    }

    /// True when send is active or polled for `fd`.
    @inlinable
    public func isSendEnabled(_ fd: FD) -> Bool {
        table[Int(fd.rawValue)].state & (FDState.sendActive | FDState.sendPolled) != 0
    }

    @inlinable
    func setActive(_ fd: FD, _ bit: UInt8) {
        let entry = table + Int(fd.rawValue)
        assert(entry.pointee.flags & FDFlags.open != 0, "verb on unregistered fd \(fd.rawValue)")
        if entry.pointee.state & bit != 0 { return }
        entry.pointee.state |= bit
        markUpdated(entry, fd.rawValue)
    }

    @inlinable
    func setPolled(_ fd: FD, active: UInt8, polled: UInt8) {
        let entry = table + Int(fd.rawValue)
        assert(entry.pointee.flags & FDFlags.open != 0, "verb on unregistered fd \(fd.rawValue)")
        if entry.pointee.state & (active | polled) == polled { return }
        entry.pointee.state = (entry.pointee.state & ~active) | polled
        markUpdated(entry, fd.rawValue)
    }

    @inlinable
    func clear(_ fd: FD, _ bits: UInt8) {
        let entry = table + Int(fd.rawValue)
        assert(entry.pointee.flags & FDFlags.open != 0, "verb on unregistered fd \(fd.rawValue)")
        if entry.pointee.state & bits == 0 { return }
        entry.pointee.state &= ~bits
        markUpdated(entry, fd.rawValue)
    }

    @inlinable
    func markUpdated(_ entry: UnsafeMutablePointer<FDEntry>, _ fd: Int32) {
        if entry.pointee.flags & FDFlags.updated != 0 { return }
        entry.pointee.flags |= FDFlags.updated
        updates[counts.pointee.updateCount] = fd
        counts.pointee.updateCount += 1
    }
}
