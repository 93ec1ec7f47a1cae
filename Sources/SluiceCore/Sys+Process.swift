// SPDX-License-Identifier: Apache-2.0
// Process-level system calls: resource limits, pid, clocks.
import CSluiceSys
import Glibc

extension Sys {
    /// Raises the soft open-files limit to the hard limit and returns the resulting soft limit.
    @inline(never)
    public static func raiseOpenFilesLimit() -> Int {
        var lim = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &lim) == 0 else { return 1024 }
        if lim.rlim_cur < lim.rlim_max {
            var raised = lim
            raised.rlim_cur = lim.rlim_max
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { lim = raised }
        }
        // RLIM_INFINITY would size tables absurdly; bound it.
        return lim.rlim_cur > 1 << 20 ? 1 << 20 : Int(lim.rlim_cur)
    }

    /// The current soft open-files limit.
    @inline(never)
    public static func openFilesLimit() -> Int {
        var lim = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &lim) == 0 else { return 1024 }
        return lim.rlim_cur > 1 << 20 ? 1 << 20 : Int(lim.rlim_cur)
    }

    /// getpid(2).
    @inlinable
    public static func getpid() -> Int32 { Glibc.getpid() }

    /// CLOCK_MONOTONIC in nanoseconds.
    @inlinable
    public static func monotonicNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }

    /// CLOCK_REALTIME as (seconds, microseconds), for log timestamps only.
    @inlinable
    public static func wallClock() -> (seconds: Int, microseconds: Int) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return (Int(ts.tv_sec), Int(ts.tv_nsec) / 1000)
    }
}
