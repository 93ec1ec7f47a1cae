// SPDX-License-Identifier: Apache-2.0
// Poller: the speculative, event-driven epoll poller (../shared/design/POLLER.md is the specification).
// Owns the flat fd table, the update list, the event cache and the list of fds created in this turn. Only the
// flush of the update list talks to the kernel (through the backend), just before waiting.
//
// State per fd and direction (recv, send): A = active (try the I/O without waiting: the fd sits in the event
// cache), P = polled (registered with epoll). Verbs change one direction at a time and never touch the kernel:
//   wantX: sets A (P untouched)      pollX: P only (clears A)      stopX: clears A and P
// The state as of the last flush is kept beside the current one; the flush issues one ADD/MOD/DEL only when
// the P bits differ. Cache membership = some direction is A: the owner may do I/O without waiting. An A+P
// direction (reported by epoll, not yet consumed to EAGAIN) is served by the cache too, so an owner that could
// not consume everything (TLS plaintext hidden in OpenSSL) is called again without a new report, as POLLER.md's
// step 4 and owner contract require; pollX (clear A) is how an owner says "nothing more until the kernel says
// so". (POLLER.md step 5 words the walk as "active and not polled"; HAProxy 1.5 resolved the same tension with
// a READY bit, serving active+ready fds from the cache whatever their polled state. This is that rule.)
// A loop turn: flush -> wait (timeout 0 if the cache is not empty) -> polled events (reported directions
// become A, owner called) -> event cache walk (A directions) -> fds registered during any call are
// served at once, newest first. A per-fd generation travels in epoll_data so stale events are dropped.

/// Which kind of owner an fd belongs to. The values are defined by the layer that registers fds (SluiceProxy);
/// the poller only stores and returns them.
@frozen
public struct OwnerKind: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8

    @inlinable
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// No owner (a free table entry).
    public static let none = OwnerKind(rawValue: 0)
}

/// The poller calls its dispatcher for every fd with work to do. Implemented by the proxy's loop with a
/// `switch` over `kind` to concrete final classes (no existentials per event).
public protocol PollDispatcher: AnyObject {
    /// Called on the loop thread. `events` holds `.readable`/`.writable` for the directions to attempt now,
    /// plus `.error`/`.hangup` when the kernel reported them. The owner attempts the I/O and then calls the
    /// poller's verbs for `fd` (and may register, change or delete any fd).
    func dispatch(fd: FD, kind: OwnerKind, owner: UInt32, events: IOEvents)

    /// Called once per turn right after the wait returns, before any owner is called: the place to refresh the
    /// loop's cached clock.
    func pollerDidWait()
}

extension PollDispatcher {
    /// Default: nothing to do after waiting.
    @inlinable
    public func pollerDidWait() {}
}

/// One fd table entry: 16 bytes of plain integers (no references), so the table is a flat preallocated array.
@frozen
public struct FDEntry: Sendable {
    /// Low nibble: current A/P bits; high nibble: the bits as of the last flush.
    @usableFromInline var state: UInt8
    /// `FDFlags` bits: list memberships and lifetime.
    @usableFromInline var flags: UInt8
    @usableFromInline var kind: OwnerKind
    @usableFromInline var reserved: UInt8
    /// Position + 1 in the event cache; 0 = not cached.
    @usableFromInline var cachePos: UInt32
    /// Bumped when the fd is deleted; sent to the kernel in the upper half of epoll_data.
    @usableFromInline var generation: UInt32
    /// Index of the owner in its kind's table.
    @usableFromInline var owner: UInt32

    @usableFromInline
    static let empty = FDEntry(state: 0, flags: 0, kind: .none, reserved: 0, cachePos: 0, generation: 0, owner: 0)
}

/// Bits of `FDEntry.state`.
@usableFromInline
enum FDState {
    @usableFromInline static let recvActive: UInt8 = 0x01
    @usableFromInline static let sendActive: UInt8 = 0x02
    @usableFromInline static let recvPolled: UInt8 = 0x04
    @usableFromInline static let sendPolled: UInt8 = 0x08
    @usableFromInline static let activeMask: UInt8 = 0x03
    @usableFromInline static let polledMask: UInt8 = 0x0C
    @usableFromInline static let currentMask: UInt8 = 0x0F
}

/// Bits of `FDEntry.flags`. `updated` and `isNew` mirror membership in the update list and the new-fd list and
/// survive `delete`, so a number reused in the same turn is never listed twice.
@usableFromInline
enum FDFlags {
    @usableFromInline static let open: UInt8 = 0x01
    @usableFromInline static let updated: UInt8 = 0x02
    @usableFromInline static let isNew: UInt8 = 0x04
    /// Inherited descriptor that another process may also hold: close() does not remove it from epoll, so
    /// delete() must issue EPOLL_CTL_DEL first.
    @usableFromInline static let shared: UInt8 = 0x08
}

/// One direction of an fd.
@frozen
public enum IODirection: Sendable {
    case recv
    case send
}

/// The poller. Create one per process with the fd limit as capacity; everything it needs is preallocated here.
/// Not thread-safe: the loop thread owns it.
public final class Poller<Backend: PollBackend> {
    @usableFromInline let backend: Backend
    @usableFromInline let table: UnsafeMutablePointer<FDEntry>
    /// Highest fd number + 1 the table can hold (the open-files limit).
    public let capacity: Int
    @usableFromInline let updates: UnsafeMutablePointer<Int32>
    @usableFromInline let cache: UnsafeMutablePointer<Int32>
    /// The counters live behind a pointer shared with `verbs`: stored class properties reached from inlined code
    /// in other modules pay a dynamic exclusivity check on every access (callgrind: 40% of the loop's
    /// instructions before this).
    @usableFromInline let counts: UnsafeMutablePointer<PollerCounts>
    @inlinable var updateCount: Int {
        get { counts.pointee.updateCount }
        set { counts.pointee.updateCount = newValue }
    }
    @inlinable var cacheCount: Int {
        get { counts.pointee.cacheCount }
        set { counts.pointee.cacheCount = newValue }
    }
    @inlinable var walked: Int {
        get { counts.pointee.walked }
        set { counts.pointee.walked = newValue }
    }
    @inlinable var newCount: Int {
        get { counts.pointee.newCount }
        set { counts.pointee.newCount = newValue }
    }
    /// The owner verbs as a plain value (three raw pointers, no reference counting): what sessions keep.
    public let verbs: FDVerbs
    @usableFromInline let newFDs: UnsafeMutablePointer<Int32>
    /// Size of the events array asked for in each wait (`tune.maxpollevents`).
    public let maxPollEvents: Int

    /// Preallocates the fd table, the update list, the cache and the new-fd list for `capacity` descriptors.
    public init(backend: Backend, capacity: Int, maxPollEvents: Int = 200) {
        precondition(capacity > 0 && capacity <= Int(Int32.max), "poller capacity out of range: \(capacity)")
        self.backend = backend
        self.capacity = capacity
        self.maxPollEvents = max(1, maxPollEvents)
        table = .allocate(capacity: capacity)
        table.initialize(repeating: .empty, count: capacity)
        updates = .allocate(capacity: capacity)
        cache = .allocate(capacity: capacity)
        newFDs = .allocate(capacity: capacity)
        counts = .allocate(capacity: 1)
        counts.initialize(to: PollerCounts())
        verbs = FDVerbs(table: table, updates: updates, counts: counts)
    }

    deinit {
        table.deallocate()
        updates.deallocate()
        cache.deallocate()
        newFDs.deallocate()
        counts.deallocate()
    }

    // MARK: registration

    /// Takes ownership of `fd` (non-blocking, not yet in epoll) for `kind`/`owner`. The fd starts idle and is
    /// flagged new: if the owner makes it active during the current turn, it is served in that same turn.
    /// `isShared` marks an inherited descriptor that another process may also hold.
    /// Rejects (traps on) an fd outside the table or one that is already registered: both are sluice bugs.
    @inlinable
    public func register(_ fd: FD, kind: OwnerKind, owner: UInt32, isShared: Bool = false) {
        let i = Int(fd.rawValue)
        precondition(i >= 0 && i < capacity, "fd \(i) outside the fd table (capacity \(capacity))")
        let entry = table + i
        assert(entry.pointee.flags & FDFlags.open == 0, "fd \(i) registered twice")
        entry.pointee.state = 0
        entry.pointee.kind = kind
        entry.pointee.owner = owner
        entry.pointee.flags = (entry.pointee.flags & (FDFlags.updated | FDFlags.isNew)) | FDFlags.open
            | (isShared ? FDFlags.shared : 0)
        if entry.pointee.flags & FDFlags.isNew == 0 {
            entry.pointee.flags |= FDFlags.isNew
            newFDs[newCount] = fd.rawValue
            newCount += 1
        }
    }

    /// Points a registered fd at another owner (a listener handed to a new frontend on reload).
    @inlinable
    public func changeOwner(_ fd: FD, kind: OwnerKind, owner: UInt32) {
        let entry = table + Int(fd.rawValue)
        assert(entry.pointee.flags & FDFlags.open != 0, "changeOwner on unregistered fd \(fd.rawValue)")
        entry.pointee.kind = kind
        entry.pointee.owner = owner
    }

    /// Forgets `fd` and closes it: removes it from the kernel (only when needed: close() already does it for a
    /// descriptor nobody else holds), from the cache, bumps its generation so events already fetched for it are
    /// dropped, and closes it. The only way to close a registered fd.
    @inlinable
    public func delete(_ fd: FD) {
        forget(fd, alwaysRemoveFromKernel: false)
        Sys.close(fd)
    }

    /// Like `delete` without closing: the caller keeps the descriptor (e.g. to hand it to a child process).
    /// Always issues EPOLL_CTL_DEL when the kernel knows the fd. `alwaysRemoveFromKernel: false` is only for a
    /// caller that closes the fd right away (as `delete` does): then DEL is issued for shared fds only.
    @inlinable
    public func forget(_ fd: FD, alwaysRemoveFromKernel: Bool = true) {
        let i = Int(fd.rawValue)
        precondition(i >= 0 && i < capacity, "fd \(i) outside the fd table")
        let entry = table + i
        assert(entry.pointee.flags & FDFlags.open != 0, "delete on unregistered fd \(i)")
        let registered = (entry.pointee.state >> 4) & FDState.polledMask != 0
        if registered && (alwaysRemoveFromKernel || entry.pointee.flags & FDFlags.shared != 0) {
            backend.control(.delete, fd: fd, interest: [], data: 0)
        }
        removeFromCache(i)
        entry.pointee.state = 0
        entry.pointee.kind = .none
        entry.pointee.owner = 0
        entry.pointee.flags &= FDFlags.updated | FDFlags.isNew
        entry.pointee.generation &+= 1
    }

    /// True when `fd` is registered.
    @inlinable
    public func isRegistered(_ fd: FD) -> Bool {
        let i = Int(fd.rawValue)
        return i >= 0 && i < capacity && table[i].flags & FDFlags.open != 0
    }

    // MARK: verbs (one bit at a time; each returns early when nothing changes)

    /// Try to receive without waiting (see `FDVerbs.wantRecv`).
    @inlinable
    public func wantRecv(_ fd: FD) { verbs.wantRecv(fd) }

    /// Try to send without waiting (see `FDVerbs.wantSend`).
    @inlinable
    public func wantSend(_ fd: FD) { verbs.wantSend(fd) }

    /// recv hit EAGAIN: wait for the kernel (see `FDVerbs.pollRecv`).
    @inlinable
    public func pollRecv(_ fd: FD) { verbs.pollRecv(fd) }

    /// send hit EAGAIN: wait for the kernel (see `FDVerbs.pollSend`).
    @inlinable
    public func pollSend(_ fd: FD) { verbs.pollSend(fd) }

    /// Not interested in receiving (see `FDVerbs.stopRecv`).
    @inlinable
    public func stopRecv(_ fd: FD) { verbs.stopRecv(fd) }

    /// Not interested in sending (see `FDVerbs.stopSend`).
    @inlinable
    public func stopSend(_ fd: FD) { verbs.stopSend(fd) }

    /// Not interested in either direction.
    @inlinable
    public func stopBoth(_ fd: FD) { verbs.stopBoth(fd) }

    /// True when recv is active or polled for `fd`.
    @inlinable
    public func isRecvEnabled(_ fd: FD) -> Bool { verbs.isRecvEnabled(fd) }

    /// True when send is active or polled for `fd`.
    @inlinable
    public func isSendEnabled(_ fd: FD) -> Bool { verbs.isSendEnabled(fd) }

    @inlinable
    func setActive(_ fd: FD, _ bit: UInt8) { verbs.setActive(fd, bit) }

    // MARK: the event cache

    @inlinable
    func addToCache(_ i: Int) {
        if table[i].cachePos != 0 { return }
        cache[cacheCount] = Int32(i)
        cacheCount += 1
        table[i].cachePos = UInt32(cacheCount)
    }

    /// Removes fd `i` from the cache by moving the last entry into its slot. During a walk, a hole among the
    /// entries already served is first moved to the end of that served part (its last entry fills the hole):
    /// filling it straight from the end of the cache would put an entry not yet served behind the walk, and
    /// that fd would miss its turn (a session closing its other, already served fd did exactly that).
    @inlinable
    func removeFromCache(_ i: Int) {
        let pos = Int(table[i].cachePos)
        if pos == 0 { return }
        table[i].cachePos = 0
        var hole = pos - 1
        if hole < walked {
            walked -= 1
            if hole < walked {
                let moved = Int(cache[walked])
                cache[hole] = Int32(moved)
                table[moved].cachePos = UInt32(hole + 1)
            }
            hole = walked
        }
        cacheCount -= 1
        if hole < cacheCount {
            let moved = Int(cache[cacheCount])
            cache[hole] = Int32(moved)
            table[moved].cachePos = UInt32(hole + 1)
        }
    }

    /// Number of fds with speculative work pending (the event cache's size).
    public var cachedCount: Int { cacheCount }

    /// Number of fds waiting in the update list (for tests).
    public var pendingUpdateCount: Int { updateCount }

    // MARK: the loop turn

    /// Applies the update list to the kernel: one ADD/MOD/DEL per fd whose polled bits changed since the last
    /// flush, none otherwise; refreshes cache membership. Runs just before waiting.
    @inlinable
    public func flushUpdates() {
        var u = 0
        while u < updateCount {
            let i = Int(updates[u])
            u += 1
            let entry = table + i
            entry.pointee.flags &= ~(FDFlags.updated | FDFlags.isNew)
            if entry.pointee.flags & FDFlags.open == 0 { continue }  // closed meanwhile: its owner is gone
            let current = entry.pointee.state & FDState.currentMask
            let previous = entry.pointee.state >> 4
            let changedPolled = (current ^ previous) & FDState.polledMask
            if changedPolled != 0 {
                let nowPolled = current & FDState.polledMask
                let operation: PollOperation
                if nowPolled == 0 {
                    operation = .delete
                } else if previous & FDState.polledMask == 0 {
                    operation = .add
                } else {
                    operation = .modify
                }
                var interest: IOEvents = []
                if nowPolled & FDState.recvPolled != 0 { interest.insert(.readable) }
                if nowPolled & FDState.sendPolled != 0 { interest.insert(.writable) }
                backend.control(operation, fd: FD(Int32(i)), interest: interest, data: token(i))
            }
            entry.pointee.state = current | (current << 4)
            if Self.hasSpeculativeWork(current) {
                addToCache(i)
            } else {
                removeFromCache(i)
            }
        }
        updateCount = 0
        // fds registered outside any dispatch and never made active stay idle; they are no longer "new".
        while newCount > 0 {
            newCount -= 1
            table[Int(newFDs[newCount])].flags &= ~FDFlags.isNew
        }
    }

    /// True when a direction is active: the cache must call the owner.
    @inlinable
    static func hasSpeculativeWork(_ state: UInt8) -> Bool {
        state & FDState.activeMask != 0
    }

    /// The token stored in epoll_data for fd `i`: generation in the upper half, fd in the lower half.
    @inlinable
    func token(_ i: Int) -> UInt64 {
        (UInt64(table[i].generation) << 32) | UInt64(UInt32(truncatingIfNeeded: i))
    }

    /// The token the kernel currently holds for `fd` (for tests that script readiness).
    public func eventToken(for fd: FD) -> UInt64 { token(Int(fd.rawValue)) }

    /// One loop turn: flush, wait up to `timeoutMs` (0 when the cache has work), handle polled events, walk the
    /// event cache. Returns the number of polled events handled. Timers are the caller's business.
    @inlinable
    @discardableResult
    public func runTurn<D: PollDispatcher>(_ dispatcher: D, timeoutMs: Int32) -> Int {
        flushUpdates()
        let timeout = cacheCount > 0 ? 0 : timeoutMs
        let count = backend.wait(maxEvents: maxPollEvents, timeoutMs: timeout)
        dispatcher.pollerDidWait()
        for n in 0..<count {
            let (reported, data) = backend.event(at: n)
            dispatchPolled(dispatcher, reported: reported, data: data)
        }
        walkCache(dispatcher)
        return count
    }

    /// Handles one event reported by the kernel.
    @inlinable
    func dispatchPolled<D: PollDispatcher>(_ dispatcher: D, reported: IOEvents, data: UInt64) {
        let i = Int(UInt32(truncatingIfNeeded: data))
        guard i < capacity else { return }
        let entry = table + i
        // A stale event: the fd was closed (and maybe reused) after the kernel queued this report.
        guard entry.pointee.flags & FDFlags.open != 0, entry.pointee.generation == UInt32(data >> 32) else { return }
        let state = entry.pointee.state
        var events: IOEvents = reported.intersection([.error, .hangup])
        // Only directions still polled are served: an owner that stopped a direction earlier in this batch must
        // not be called for it. ERR/HUP wake whichever direction waits.
        if state & FDState.recvPolled != 0 && !reported.isDisjoint(with: [.readable, .error, .hangup]) {
            events.insert(.readable)
            setActive(FD(Int32(i)), FDState.recvActive)
        }
        if state & FDState.sendPolled != 0 && !reported.isDisjoint(with: [.writable, .error, .hangup]) {
            events.insert(.writable)
            setActive(FD(Int32(i)), FDState.sendActive)
        }
        guard events.contains(.readable) || events.contains(.writable) else { return }
        dispatcher.dispatch(fd: FD(Int32(i)), kind: entry.pointee.kind, owner: entry.pointee.owner, events: events)
        serveNewFDs(dispatcher)
    }

    /// Walks the event cache once, calling each fd for its active directions. An owner may delete its
    /// own fd or any other cached fd: the entry moved into a hole ahead of the walk is served in its new slot,
    /// and a hole behind the walk is filled without hiding anything (see `removeFromCache`), so every fd still
    /// cached is served exactly once.
    @inlinable
    func walkCache<D: PollDispatcher>(_ dispatcher: D) {
        walked = 0
        defer { walked = 0 }
        while walked < cacheCount {
            let i = Int(cache[walked])
            walked += 1
            let entry = table + i
            let state = entry.pointee.state
            var events: IOEvents = []
            if state & FDState.recvActive != 0 { events.insert(.readable) }
            if state & FDState.sendActive != 0 { events.insert(.writable) }
            if !events.isEmpty {
                dispatcher.dispatch(fd: FD(Int32(i)), kind: entry.pointee.kind, owner: entry.pointee.owner, events: events)
                serveNewFDs(dispatcher)
            }
        }
    }

    /// Serves the fds registered since the last call, newest first: each one whose owner made a direction
    /// active is called right away with those directions (a freshly accepted connection reads its request in
    /// the turn that accepted it). Fds registered by these calls are served too. A new fd that ends idle and is
    /// the last update entry has that entry dropped, saving the flush a visit.
    @inlinable
    public func serveNewFDs<D: PollDispatcher>(_ dispatcher: D) {
        while newCount > 0 {
            newCount -= 1
            let i = Int(newFDs[newCount])
            let entry = table + i
            entry.pointee.flags &= ~FDFlags.isNew
            guard entry.pointee.flags & FDFlags.open != 0 else { continue }
            let state = entry.pointee.state
            var events: IOEvents = []
            if state & FDState.recvActive != 0 { events.insert(.readable) }
            if state & FDState.sendActive != 0 { events.insert(.writable) }
            if !events.isEmpty {
                dispatcher.dispatch(fd: FD(Int32(i)), kind: entry.pointee.kind, owner: entry.pointee.owner, events: events)
            }
            if entry.pointee.state == 0 && updateCount > 0 && Int(updates[updateCount - 1]) == i {
                entry.pointee.flags &= ~FDFlags.updated
                updateCount -= 1
            }
        }
    }
}

// MARK: inspection (tests and debug output only; never on the hot path)

extension Poller {
    /// The current A/P bits of each direction of `fd` (not yet necessarily flushed). For tests and debugging only.
    func directionState(_ fd: FD) -> (recvActive: Bool, recvPolled: Bool, sendActive: Bool, sendPolled: Bool) {
        let state = table[Int(fd.rawValue)].state
        return (
            state & FDState.recvActive != 0, state & FDState.recvPolled != 0,
            state & FDState.sendActive != 0, state & FDState.sendPolled != 0
        )
    }

    /// The P bits as of the last flush, i.e. what the kernel was told. For tests and debugging only.
    func flushedPolled(_ fd: FD) -> (recv: Bool, send: Bool) {
        let previous = table[Int(fd.rawValue)].state >> 4
        return (previous & FDState.recvPolled != 0, previous & FDState.sendPolled != 0)
    }

    /// True when `fd` sits in the event cache. For tests and debugging only.
    func isCached(_ fd: FD) -> Bool { table[Int(fd.rawValue)].cachePos != 0 }

    /// True when `fd` is flagged as listed in the update list. For tests and debugging only.
    func isUpdatePending(_ fd: FD) -> Bool { table[Int(fd.rawValue)].flags & FDFlags.updated != 0 }

    /// True when `fd` is flagged as registered in the current turn and not yet served. For tests and debugging only.
    func isFlaggedNew(_ fd: FD) -> Bool { table[Int(fd.rawValue)].flags & FDFlags.isNew != 0 }

    /// The fds in the event cache, in walk order. For tests and debugging only (allocates).
    func cachedFDs() -> [Int32] { (0..<cacheCount).map { cache[$0] } }

    /// The fds in the update list, in flush order. For tests and debugging only (allocates).
    func pendingUpdates() -> [Int32] { (0..<updateCount).map { updates[$0] } }
}
