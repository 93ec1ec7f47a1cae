// SPDX-License-Identifier: Apache-2.0
// Signal system calls: blocking signals and reading them through a signalfd, so that signals are ordinary
// events in the poller and no signal handler ever does work.
import CSluiceSys
import Glibc

extension Sys {
    /// Blocks `signals` for the process (sigprocmask SIG_BLOCK) and returns a non-blocking signalfd that reports
    /// them.
    @inline(never)
    public static func signalfd(blocking signals: [CInt]) throws(Errno) -> FD {
        var set = sigset_t()
        _ = csluice_sigemptyset(&set)
        for s in signals { _ = csluice_sigaddset(&set, s) }
        if sigprocmask(SIG_BLOCK, &set, nil) != 0 { throw Errno(rawValue: csluice_errno()) }
        let fd = CSluiceSys.signalfd(-1, &set, CInt(SFD_NONBLOCK) | CInt(SFD_CLOEXEC))
        if fd < 0 { throw Errno(rawValue: csluice_errno()) }
        return FD(fd)
    }

    /// Unblocks every signal (for a child process after fork, before exec).
    @inline(never)
    public static func unblockAllSignals() {
        var set = sigset_t()
        _ = csluice_sigemptyset(&set)
        _ = sigprocmask(SIG_SETMASK, &set, nil)
    }

    /// Reads one pending signal number from a signalfd, or nil when none is pending.
    @inline(never)
    public static func readSignal(_ fd: FD) -> CInt? {
        var info = signalfd_siginfo()
        while true {
            let n = Glibc.read(fd.rawValue, &info, MemoryLayout<signalfd_siginfo>.size)
            if n == MemoryLayout<signalfd_siginfo>.size { return CInt(info.ssi_signo) }
            if n < 0 && csluice_errno() == EINTR { continue }
            return nil
        }
    }

    /// Sets the disposition of `signal` to "ignore" (SIGPIPE: every send uses MSG_NOSIGNAL anyway, but OpenSSL
    /// writes with write()).
    @inline(never)
    public static func ignoreSignal(_ signal: CInt) {
        _ = Glibc.signal(signal, SIG_IGN)
    }
}
