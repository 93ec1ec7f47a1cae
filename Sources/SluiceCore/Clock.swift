// SPDX-License-Identifier: Apache-2.0
// Clock: the loop's cached notion of "now" in milliseconds of CLOCK_MONOTONIC. Read once per loop turn (after
// epoll_wait) so that timers and timeouts on the hot path never make a syscall.

/// A point on the monotonic clock, in milliseconds. Deadlines are `Ticks`; durations are plain `Int64` ms.
public typealias Ticks = Int64

/// The cached monotonic time. Owned by the loop; `update()` is called once per turn.
public final class Clock {
    /// Monotonic milliseconds as of the last `update()`.
    public private(set) var now: Ticks

    /// Starts at the current monotonic time.
    public init() {
        now = Sys.monotonicNanoseconds() / 1_000_000
    }

    /// Re-reads the monotonic clock.
    @inlinable
    public func update() {
        setNow(Sys.monotonicNanoseconds() / 1_000_000)
    }

    @usableFromInline
    func setNow(_ value: Ticks) { now = value }

    /// Moves the clock by hand (tests only).
    public func advance(byMs ms: Int64) { now += ms }
}
