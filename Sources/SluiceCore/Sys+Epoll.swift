// SPDX-License-Identifier: Apache-2.0
// epoll system calls. Only EpollBackend calls these; only the Poller calls EpollBackend.
import CSluiceSys
import Glibc

extension Sys {
    /// epoll_create1(EPOLL_CLOEXEC).
    @inline(never)
    public static func epoll_create1() throws(Errno) -> FD {
        let fd = CSluiceSys.epoll_create1(CInt(EPOLL_CLOEXEC))
        if fd < 0 { throw Errno(rawValue: csluice_errno()) }
        return FD(fd)
    }

    /// epoll_ctl(2). EBADF, EEXIST, ENOENT and EINVAL can only be sluice's bug (the poller's bookkeeping is
    /// wrong) and trap; ENOMEM/ENOSPC are returned.
    @inline(never)
    public static func epoll_ctl(_ epfd: FD, op: CInt, fd: FD, events: UInt32, data: UInt64) -> Errno? {
        let rc = csluice_epoll_ctl(epfd.rawValue, op, fd.rawValue, events, data)
        if rc == 0 { return nil }
        let err = csluice_errno()
        switch err {
        case EBADF, EEXIST, ENOENT, EINVAL, EPERM: unacceptable(err, "epoll_ctl")
        default: return Errno(rawValue: err)
        }
    }

    /// epoll_wait(2). EINTR returns 0 events (the loop simply turns again).
    @inline(never)
    public static func epoll_wait(
        _ epfd: FD,
        events: UnsafeMutablePointer<epoll_event>,
        maxevents: CInt,
        timeout: CInt
    ) -> Int {
        let n = CSluiceSys.epoll_wait(epfd.rawValue, events, maxevents, timeout)
        if n >= 0 { return Int(n) }
        let err = csluice_errno()
        switch err {
        case EINTR: return 0
        default: unacceptable(err, "epoll_wait")
        }
    }
}
