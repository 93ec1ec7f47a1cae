// SPDX-License-Identifier: Apache-2.0
// IOBuffer and BufferPool: fixed-size I/O buffers (`tune.bufsize`) handed to a connection only while data is in
// flight and returned as soon as it drains, so an idle connection holds no buffer. The pool grows to the
// high-water mark of buffers in use and then allocates nothing: steady state is zero allocations.
import Glibc

/// A linear buffer: bytes [head, tail) are pending, [tail, capacity) is free. Plain value, no reference
/// counting; the memory belongs to the BufferPool and `base` is nil while the owner holds no buffer.
@frozen
public struct IOBuffer {
    public var base: UnsafeMutablePointer<UInt8>?
    public var head: Int32
    public var tail: Int32
    public var capacity: Int32

    /// A buffer slot that holds no memory.
    @inlinable
    public static var none: IOBuffer { IOBuffer(base: nil, head: 0, tail: 0, capacity: 0) }

    @inlinable
    public init(base: UnsafeMutablePointer<UInt8>?, head: Int32, tail: Int32, capacity: Int32) {
        self.base = base
        self.head = head
        self.tail = tail
        self.capacity = capacity
    }

    /// True when memory is attached.
    @inlinable public var isAllocated: Bool { base != nil }
    /// Pending bytes.
    @inlinable public var count: Int { Int(tail - head) }
    @inlinable public var isEmpty: Bool { tail == head }
    /// Room after the pending bytes.
    @inlinable public var freeSpace: Int { Int(capacity - tail) }
    /// Room after compaction (what could be received if the pending bytes were moved to the front).
    @inlinable public var totalFreeSpace: Int { Int(capacity) - count }
    @inlinable public var isFull: Bool { count == Int(capacity) }

    /// The pending bytes.
    @inlinable
    public var readable: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base! + Int(head), count: count)
    }

    /// The free room after the pending bytes (compact first to make it as large as possible).
    @inlinable
    public var writable: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base! + Int(tail), count: freeSpace)
    }

    /// Room to read into while the buffer may hold at most `limit` bytes (a head keeps tune.maxrewrite free):
    /// the pending bytes move to the front first when that room would not fit after them. `count` < `limit`.
    @inlinable
    public mutating func writable(holdingAtMost limit: Int) -> UnsafeMutableRawBufferPointer {
        if Int(tail) + (limit - count) > Int(capacity) { compact() }
        return UnsafeMutableRawBufferPointer(start: base! + Int(tail), count: limit - count)
    }

    /// Marks `n` bytes of `writable` as filled.
    @inlinable
    public mutating func produced(_ n: Int) {
        assert(n >= 0 && n <= freeSpace, "produced \(n) with \(freeSpace) free")
        tail += Int32(n)
    }

    /// Marks `n` pending bytes as sent. Resets to the start when empty, so most buffers never need compaction.
    @inlinable
    public mutating func consumed(_ n: Int) {
        assert(n >= 0 && n <= count, "consumed \(n) of \(count)")
        head += Int32(n)
        if head == tail {
            head = 0
            tail = 0
        }
    }

    /// Moves the pending bytes to the front of the buffer.
    @inlinable
    public mutating func compact() {
        guard head > 0 else { return }
        if count > 0 { memmove(base!, base! + Int(head), count) }
        tail -= head
        head = 0
    }

    /// Moves the pending bytes to the front when the free room at the end is smaller than the room in front.
    @inlinable
    public mutating func compactIfUseful() {
        guard head > 0, freeSpace < Int(head) else { return }
        memmove(base!, base! + Int(head), count)
        tail -= head
        head = 0
    }
}

/// The pool's state, behind one pointer shared by the pool and its lenders: hot accesses skip dynamic
/// exclusivity checks and reference counting.
@frozen
public struct BufferPoolStorage {
    @usableFromInline let bufferSize: Int
    @usableFromInline var free: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>>
    @usableFromInline var freeCount = 0
    @usableFromInline var freeCapacity: Int
    @usableFromInline var allocatedCount = 0
    @usableFromInline var inUseCount = 0

    @usableFromInline
    init(bufferSize: Int, freeCapacity: Int) {
        self.bufferSize = bufferSize
        self.freeCapacity = freeCapacity
        free = .allocate(capacity: freeCapacity)
    }
}

/// Attach/detach as a plain value (one raw pointer): what sessions keep and call on every event. Valid as long
/// as the BufferPool that made it; loop-thread only.
@frozen
public struct BufferLender {
    @usableFromInline let storage: UnsafeMutablePointer<BufferPoolStorage>

    @inlinable
    init(storage: UnsafeMutablePointer<BufferPoolStorage>) { self.storage = storage }

    /// Attaches memory to `buffer` if it has none. Reuses a free buffer; allocates only when none is free.
    @inlinable
    public func attach(_ buffer: inout IOBuffer) {
        if buffer.base != nil { return }
        let memory: UnsafeMutablePointer<UInt8>
        if storage.pointee.freeCount > 0 {
            storage.pointee.freeCount -= 1
            memory = storage.pointee.free[storage.pointee.freeCount]
        } else {
            memory = allocateBuffer()
        }
        buffer = IOBuffer(base: memory, head: 0, tail: 0, capacity: Int32(storage.pointee.bufferSize))
        storage.pointee.inUseCount += 1
    }

    /// Returns `buffer`'s memory to the pool if it has some and it is empty (or `force` is set: data dropped).
    @inlinable
    public func detach(_ buffer: inout IOBuffer, force: Bool = false) {
        guard let memory = buffer.base, force || buffer.isEmpty else { return }
        if storage.pointee.freeCount == storage.pointee.freeCapacity { growFreeList() }
        storage.pointee.free[storage.pointee.freeCount] = memory
        storage.pointee.freeCount += 1
        buffer = .none
        storage.pointee.inUseCount -= 1
    }

    @usableFromInline
    @inline(never)
    func allocateBuffer() -> UnsafeMutablePointer<UInt8> {
        storage.pointee.allocatedCount += 1
        return .allocate(capacity: storage.pointee.bufferSize)
    }

    @usableFromInline
    @inline(never)
    func growFreeList() {
        let newCapacity = storage.pointee.freeCapacity * 2
        let bigger = UnsafeMutablePointer<UnsafeMutablePointer<UInt8>>.allocate(capacity: newCapacity)
        bigger.moveInitialize(from: storage.pointee.free, count: storage.pointee.freeCount)
        storage.pointee.free.deallocate()
        storage.pointee.free = bigger
        storage.pointee.freeCapacity = newCapacity
    }
}

/// The pool of I/O buffers of one size: owns the memory. Loop-thread only.
public final class BufferPool {
    /// Bytes per buffer (`tune.bufsize`).
    public let bufferSize: Int
    @usableFromInline let storage: UnsafeMutablePointer<BufferPoolStorage>
    /// The hot-path interface.
    public let lender: BufferLender

    /// Buffers ever allocated (the high-water mark of buffers in use).
    public var allocatedCount: Int { storage.pointee.allocatedCount }
    /// Buffers currently handed out.
    public var inUseCount: Int { storage.pointee.inUseCount }
    /// Buffers idle in the pool.
    public var idleCount: Int { storage.pointee.freeCount }

    /// A pool of `bufferSize`-byte buffers. `preallocate` buffers are created at once.
    public init(bufferSize: Int, preallocate: Int = 0) {
        precondition(bufferSize > 0 && bufferSize <= Int(Int32.max), "bad buffer size \(bufferSize)")
        self.bufferSize = bufferSize
        storage = .allocate(capacity: 1)
        storage.initialize(to: BufferPoolStorage(bufferSize: bufferSize, freeCapacity: max(64, preallocate)))
        lender = BufferLender(storage: storage)
        for _ in 0..<preallocate {
            storage.pointee.free[storage.pointee.freeCount] = .allocate(capacity: bufferSize)
            storage.pointee.freeCount += 1
            storage.pointee.allocatedCount += 1
        }
    }

    deinit {
        for i in 0..<storage.pointee.freeCount { storage.pointee.free[i].deallocate() }
        storage.pointee.free.deallocate()
        storage.deallocate()
    }

    /// Attaches memory to `buffer` if it has none (see `BufferLender.attach`).
    @inlinable
    public func attach(_ buffer: inout IOBuffer) { lender.attach(&buffer) }

    /// Returns `buffer`'s memory to the pool (see `BufferLender.detach`).
    @inlinable
    public func detach(_ buffer: inout IOBuffer, force: Bool = false) { lender.detach(&buffer, force: force) }
}
