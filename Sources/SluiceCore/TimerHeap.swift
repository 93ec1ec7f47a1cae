// SPDX-License-Identifier: Apache-2.0
// TimerHeap: pending deadlines in a binary min-heap with an index per timer, so that schedule (insert or move),
// cancel and expire are O(log n) and "next deadline" is O(1). Timers are slots allocated once per owner
// (a session, a listener pause, a health check) and reused; scheduling never allocates unless the heap has
// to grow past its preallocated capacity.

/// A timer slot number, handed out by `TimerHeap.allocate`.
@frozen
public struct TimerID: Hashable, Sendable {
    public let rawValue: UInt32

    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }
}

/// A min-heap of (deadline, timer) with O(log n) insert, move, cancel and pop. Loop-thread only.
public final class TimerHeap {
    @usableFromInline struct Node {
        @usableFromInline var deadline: Ticks
        @usableFromInline var timer: UInt32

        @usableFromInline
        init(deadline: Ticks, timer: UInt32) {
            self.deadline = deadline
            self.timer = timer
        }
    }

    /// Everything mutable, behind one pointer so that hot accesses skip dynamic exclusivity checks (stored class
    /// properties reached from inlined code in other modules are checked on every access).
    @usableFromInline
    struct Storage {
        @usableFromInline var heap: UnsafeMutablePointer<Node>
        @usableFromInline var heapCount = 0
        /// Per timer slot: position + 1 in the heap (0 = not scheduled).
        @usableFromInline var positions: UnsafeMutablePointer<UInt32>
        /// Per timer slot: the owner's token, returned when it fires.
        @usableFromInline var tokens: UnsafeMutablePointer<UInt64>
        /// Free slots (stack).
        @usableFromInline var freeSlots: UnsafeMutablePointer<UInt32>
        @usableFromInline var freeCount = 0
        @usableFromInline var slotCount = 0
        @usableFromInline var capacity: Int

        @usableFromInline
        init(capacity: Int) {
            self.capacity = capacity
            heap = .allocate(capacity: capacity)
            positions = .allocate(capacity: capacity)
            tokens = .allocate(capacity: capacity)
            freeSlots = .allocate(capacity: capacity)
        }
    }

    @usableFromInline let storage: UnsafeMutablePointer<Storage>
    @inlinable var heap: UnsafeMutablePointer<Node> {
        get { storage.pointee.heap }
        set { storage.pointee.heap = newValue }
    }
    @inlinable var heapCount: Int {
        get { storage.pointee.heapCount }
        set { storage.pointee.heapCount = newValue }
    }
    @inlinable var positions: UnsafeMutablePointer<UInt32> {
        get { storage.pointee.positions }
        set { storage.pointee.positions = newValue }
    }
    @inlinable var tokens: UnsafeMutablePointer<UInt64> {
        get { storage.pointee.tokens }
        set { storage.pointee.tokens = newValue }
    }
    @inlinable var freeSlots: UnsafeMutablePointer<UInt32> {
        get { storage.pointee.freeSlots }
        set { storage.pointee.freeSlots = newValue }
    }
    @inlinable var freeCount: Int {
        get { storage.pointee.freeCount }
        set { storage.pointee.freeCount = newValue }
    }
    @inlinable var slotCount: Int {
        get { storage.pointee.slotCount }
        set { storage.pointee.slotCount = newValue }
    }
    @inlinable var capacity: Int {
        get { storage.pointee.capacity }
        set { storage.pointee.capacity = newValue }
    }

    /// Preallocates room for `capacity` timers; more are possible (the arrays double).
    public init(capacity: Int = 1024) {
        storage = .allocate(capacity: 1)
        storage.initialize(to: Storage(capacity: max(16, capacity)))
    }

    deinit {
        heap.deallocate()
        positions.deallocate()
        tokens.deallocate()
        freeSlots.deallocate()
        storage.deallocate()
    }

    /// Number of scheduled timers.
    public var count: Int { heapCount }

    /// Allocates a timer slot that reports `token` when it fires. The slot starts unscheduled.
    public func allocate(token: UInt64) -> TimerID {
        let slot: UInt32
        if freeCount > 0 {
            freeCount -= 1
            slot = freeSlots[freeCount]
        } else {
            if slotCount == capacity { grow() }
            slot = UInt32(slotCount)
            slotCount += 1
        }
        positions[Int(slot)] = 0
        tokens[Int(slot)] = token
        return TimerID(rawValue: slot)
    }

    /// Cancels and returns a slot to the free list. The id must not be used afterwards.
    public func release(_ id: TimerID) {
        cancel(id)
        freeSlots[freeCount] = id.rawValue
        freeCount += 1
    }

    @inline(never)
    func grow() {
        let newCapacity = capacity * 2
        func regrow<T>(_ p: UnsafeMutablePointer<T>, _ used: Int) -> UnsafeMutablePointer<T> {
            let q = UnsafeMutablePointer<T>.allocate(capacity: newCapacity)
            q.moveInitialize(from: p, count: used)
            p.deallocate()
            return q
        }
        heap = regrow(heap, heapCount)
        positions = regrow(positions, slotCount)
        tokens = regrow(tokens, slotCount)
        freeSlots = regrow(freeSlots, freeCount)
        capacity = newCapacity
    }

    /// True when the timer is scheduled.
    @inlinable
    public func isScheduled(_ id: TimerID) -> Bool { positions[Int(id.rawValue)] != 0 }

    /// The deadline of a scheduled timer, or nil.
    @inlinable
    public func deadline(of id: TimerID) -> Ticks? {
        let pos = Int(positions[Int(id.rawValue)])
        return pos == 0 ? nil : heap[pos - 1].deadline
    }

    /// Schedules (or moves) a timer to `deadline`.
    @inlinable
    public func schedule(_ id: TimerID, at deadline: Ticks) {
        let slot = Int(id.rawValue)
        let pos = Int(positions[slot])
        if pos == 0 {
            heap[heapCount] = Node(deadline: deadline, timer: id.rawValue)
            heapCount += 1
            positions[slot] = UInt32(heapCount)
            siftUp(heapCount - 1)
        } else {
            let old = heap[pos - 1].deadline
            heap[pos - 1].deadline = deadline
            if deadline < old { siftUp(pos - 1) } else if deadline > old { siftDown(pos - 1) }
        }
    }

    /// Unschedules a timer (no effect if it is not scheduled).
    @inlinable
    public func cancel(_ id: TimerID) {
        let slot = Int(id.rawValue)
        let pos = Int(positions[slot])
        if pos == 0 { return }
        positions[slot] = 0
        heapCount -= 1
        let index = pos - 1
        if index == heapCount { return }
        let last = heap[heapCount]
        heap[index] = last
        positions[Int(last.timer)] = UInt32(index + 1)
        if index > 0 && last.deadline < heap[(index - 1) / 2].deadline {
            siftUp(index)
        } else {
            siftDown(index)
        }
    }

    /// The earliest deadline, or nil when nothing is scheduled.
    @inlinable
    public var nextDeadline: Ticks? { heapCount > 0 ? heap[0].deadline : nil }

    /// Milliseconds from `now` to the next deadline, bounded by `maxMs`; `maxMs` when nothing is scheduled.
    @inlinable
    public func timeoutMs(from now: Ticks, max maxMs: Int32) -> Int32 {
        guard heapCount > 0 else { return maxMs }
        let delta = heap[0].deadline - now
        if delta <= 0 { return 0 }
        return delta >= Int64(maxMs) ? maxMs : Int32(delta)
    }

    /// Removes and returns the earliest timer if its deadline is at or before `now`.
    @inlinable
    public func popExpired(now: Ticks) -> (id: TimerID, token: UInt64)? {
        guard heapCount > 0, heap[0].deadline <= now else { return nil }
        let id = TimerID(rawValue: heap[0].timer)
        cancel(id)
        return (id, tokens[Int(id.rawValue)])
    }

    @inlinable
    func siftUp(_ start: Int) {
        var index = start
        let node = heap[index]
        while index > 0 {
            let parent = (index - 1) / 2
            if heap[parent].deadline <= node.deadline { break }
            heap[index] = heap[parent]
            positions[Int(heap[index].timer)] = UInt32(index + 1)
            index = parent
        }
        heap[index] = node
        positions[Int(node.timer)] = UInt32(index + 1)
    }

    @inlinable
    func siftDown(_ start: Int) {
        var index = start
        let node = heap[index]
        while true {
            let left = 2 * index + 1
            if left >= heapCount { break }
            var child = left
            if left + 1 < heapCount && heap[left + 1].deadline < heap[left].deadline { child = left + 1 }
            if heap[child].deadline >= node.deadline { break }
            heap[index] = heap[child]
            positions[Int(heap[index].timer)] = UInt32(index + 1)
            index = child
        }
        heap[index] = node
        positions[Int(node.timer)] = UInt32(index + 1)
    }
}
