// SPDX-License-Identifier: Apache-2.0
// Clock: the loop's cached notion of "now" in milliseconds of CLOCK_MONOTONIC. Read once per loop turn (after
// epoll_wait) so that timers and timeouts on the hot path never make a syscall.

/// A point on the monotonic clock, in milliseconds. Deadlines are `Ticks`; durations are plain `Int64` ms.
public typealias Ticks = Int64

/// The cached monotonic time. Owned by the loop; `update()` is called once per turn.
public final class Clock {
    /// The time lives behind a pointer: a stored class property read from another module pays a dynamic
    /// exclusivity check, and `now` is read on every event.
    @usableFromInline let storage: UnsafeMutablePointer<Ticks>

    /// Starts at the current monotonic time.
    public init() {
        storage = .allocate(capacity: 1)
        storage.initialize(to: Sys.monotonicNanoseconds() / 1_000_000)
    }

    deinit {
        storage.deallocate()
    }

    /// Monotonic milliseconds as of the last `update()`.
    @inlinable
    public var now: Ticks { storage.pointee }

    /// A reader of `now` as a plain value (one raw pointer) for code that reads the time on every event.
    public var reader: ClockReader { ClockReader(storage: storage) }

    /// Re-reads the monotonic clock.
    @inlinable
    public func update() {
        storage.pointee = Sys.monotonicNanoseconds() / 1_000_000
    }

    /// Moves the clock by hand (tests only).
    public func advance(byMs ms: Int64) { storage.pointee += ms }
}

/// Reads the loop's cached time without a class reference. Valid as long as the Clock that made it.
@frozen
public struct ClockReader {
    @usableFromInline let storage: UnsafeMutablePointer<Ticks>

    @inlinable
    init(storage: UnsafeMutablePointer<Ticks>) { self.storage = storage }

    /// Monotonic milliseconds as of the loop's last clock update.
    @inlinable
    public var now: Ticks { storage.pointee }
}
