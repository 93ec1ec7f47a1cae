// SPDX-License-Identifier: Apache-2.0
// Sys: the namespace of system-call wrappers, one file per family (Sys+Socket, Sys+Epoll, Sys+Signal,
// Sys+Process). Wrappers keep the C names and read errno on the line right after the call, which is why they
// are @inline(never): no Swift code (and no ARC release that could call free) may run in between.
// Errno policy: EINTR is retried inside the wrapper (except close); EAGAIN becomes a result; errnos that can
// only be sluice's own bug (EBADF, EFAULT, ENOTSOCK, EEXIST/ENOENT from epoll_ctl) trap with the call's name.
import CSluiceSys
import Glibc

/// System-call wrappers. Every function runs on the loop thread and is safe to call from anywhere in it.
public enum Sys {
    /// Traps on an errno that can only mean a bug in sluice (a closed fd, a bad pointer). Never returns.
    @inline(never)
    public static func unacceptable(_ err: CInt, _ call: StaticString, file: StaticString = #file, line: UInt = #line)
        -> Never
    {
        fatalError("\(call) failed with an errno that means a bug in sluice: \(Errno(rawValue: err))", file: file, line: line)
    }

    /// Reads errno (for the few call sites that use a Glibc function directly).
    @inlinable
    public static var errno: CInt { csluice_errno() }

    /// close(2). EINTR is not retried: on Linux the fd is released even then. EBADF traps.
    @inline(never)
    public static func close(_ fd: FD) {
        let rc = Glibc.close(fd.rawValue)
        if rc != 0 {
            let err = csluice_errno()
            if err == EBADF { unacceptable(err, "close") }
        }
    }

    /// read(2) into `buffer`, for pipes, signalfd and eventfd.
    @inline(never)
    public static func read(_ fd: FD, into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let n = Glibc.read(fd.rawValue, buffer.baseAddress, buffer.count)
            if n > 0 { return .processed(n) }
            if n == 0 { return .eof }
            let err = csluice_errno()
            switch err {
            case EINTR: continue
            case EAGAIN: return .wouldBlock
            case EBADF, EFAULT: unacceptable(err, "read")
            default: return .failed(Errno(rawValue: err))
            }
        }
    }

    /// write(2) from `buffer`, for pipes and log files (sockets use `send`, which suppresses SIGPIPE).
    @inline(never)
    public static func write(_ fd: FD, from buffer: UnsafeRawBufferPointer) -> IOResult {
        while true {
            let n = Glibc.write(fd.rawValue, buffer.baseAddress, buffer.count)
            if n >= 0 { return n == 0 ? .wouldBlock : .processed(n) }
            let err = csluice_errno()
            switch err {
            case EINTR: continue
            case EAGAIN: return .wouldBlock
            case EFAULT: unacceptable(err, "write")
            default: return .failed(Errno(rawValue: err))
            }
        }
    }

    /// fcntl(F_SETFL, O_NONBLOCK) for descriptors sluice did not create (inherited listeners).
    @inline(never)
    public static func setNonBlocking(_ fd: FD) throws(Errno) {
        let flags = fcntl(fd.rawValue, F_GETFL)
        if flags < 0 { throw Errno(rawValue: csluice_errno()) }
        if fcntl(fd.rawValue, F_SETFL, flags | O_NONBLOCK) < 0 { throw Errno(rawValue: csluice_errno()) }
    }

    /// fcntl(F_SETFD, FD_CLOEXEC) for descriptors sluice did not create.
    @inline(never)
    public static func setCloseOnExec(_ fd: FD) throws(Errno) {
        let flags = fcntl(fd.rawValue, F_GETFD)
        if flags < 0 { throw Errno(rawValue: csluice_errno()) }
        if fcntl(fd.rawValue, F_SETFD, flags | FD_CLOEXEC) < 0 { throw Errno(rawValue: csluice_errno()) }
    }

    /// True when `fd` is an open descriptor (fcntl F_GETFD succeeds).
    @inline(never)
    public static func isOpen(_ fd: FD) -> Bool {
        fcntl(fd.rawValue, F_GETFD) >= 0
    }
}
