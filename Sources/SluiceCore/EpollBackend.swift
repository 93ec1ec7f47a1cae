// SPDX-License-Identifier: Apache-2.0
// EpollBackend: the real kernel behind the Poller. Owns the epoll fd and a preallocated events array; the only
// code in sluice that calls epoll_ctl and epoll_wait. Level-triggered, as HAProxy's epoll poller.
import CSluiceSys
import Glibc

/// The epoll instance. Created once at start-up with room for `maxEvents` events per wait.
public final class EpollBackend: PollBackend {
    @usableFromInline let epollFD: FD
    @usableFromInline let events: UnsafeMutablePointer<epoll_event>
    @usableFromInline let capacity: Int

    /// Creates the epoll instance. Fails only if the kernel refuses (EMFILE, ENOMEM).
    public init(maxEvents: Int) throws(Errno) {
        epollFD = try Sys.epoll_create1()
        capacity = max(1, maxEvents)
        events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        events.initialize(repeating: epoll_event(), count: capacity)
    }

    deinit {
        events.deallocate()
        Sys.close(epollFD)
    }

    public func control(_ operation: PollOperation, fd: FD, interest: IOEvents, data: UInt64) {
        var mask: UInt32 = 0
        if interest.contains(.readable) { mask |= EPOLLIN.rawValue }
        if interest.contains(.writable) { mask |= EPOLLOUT.rawValue }
        let op: CInt
        switch operation {
        case .add: op = EPOLL_CTL_ADD
        case .modify: op = EPOLL_CTL_MOD
        case .delete: op = EPOLL_CTL_DEL
        }
        if let err = Sys.epoll_ctl(epollFD, op: op, fd: fd, events: mask, data: data) {
            // ENOMEM/ENOSPC: the kernel cannot track this fd. The owner will time out; nothing better exists.
            Sys.reportControlFailure(err, fd: fd)
        }
    }

    @inlinable
    public func wait(maxEvents: Int, timeoutMs: Int32) -> Int {
        Sys.epoll_wait(epollFD, events: events, maxevents: CInt(min(maxEvents, capacity)), timeout: timeoutMs)
    }

    @inlinable
    public func event(at index: Int) -> (events: IOEvents, data: UInt64) {
        let raw = csluice_epoll_event_events(events + index)
        var ev: IOEvents = []
        if raw & EPOLLIN.rawValue != 0 { ev.insert(.readable) }
        if raw & EPOLLOUT.rawValue != 0 { ev.insert(.writable) }
        if raw & EPOLLERR.rawValue != 0 { ev.insert(.error) }
        if raw & EPOLLHUP.rawValue != 0 { ev.insert(.hangup) }
        return (ev, csluice_epoll_event_data(events + index))
    }
}

extension Sys {
    /// Writes one line to stderr about an epoll_ctl failure that is not a bug (ENOMEM, ENOSPC).
    @inline(never)
    static func reportControlFailure(_ err: Errno, fd: FD) {
        var line = "[ALERT] epoll_ctl failed on fd \(fd.rawValue): \(err)\n"
        line.withUTF8 { _ = Sys.write(.standardError, from: UnsafeRawBufferPointer($0)) }
    }
}
