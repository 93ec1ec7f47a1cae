// SPDX-License-Identifier: Apache-2.0
// Socket system calls: socket, bind, listen, accept4, connect, recv, send, shutdown, socket options.
// Sockets are always created SOCK_NONBLOCK | SOCK_CLOEXEC; every send uses MSG_NOSIGNAL.
import CSluiceSys
import Glibc

/// What one accept4 call produced.
@frozen
public enum AcceptResult: Sendable {
    case accepted(FD, peer: IPEndpoint)
    case wouldBlock
    case failed(Errno)
}

/// What a non-blocking connect produced.
@frozen
public enum ConnectResult: Sendable, Equatable {
    /// Connected at once (loopback can do this).
    case connected
    /// EINPROGRESS: wait for writability, then read SO_ERROR.
    case inProgress
    case failed(Errno)
}

extension Sys {
    /// SOCK_STREAM and SOCK_DGRAM for callers of `socket(domain:type:)` in other modules (spelled here once: the
    /// constant is visible through two clang modules there, Glibc's and CSluiceSys's, which debug builds refuse).
    public static let streamSocket = CInt(SOCK_STREAM.rawValue)
    public static let datagramSocket = CInt(SOCK_DGRAM.rawValue)

    /// socket(2) with SOCK_NONBLOCK | SOCK_CLOEXEC added to `type`.
    @inline(never)
    public static func socket(domain: CInt, type: CInt, protocol proto: CInt = 0) throws(Errno) -> FD {
        let fd = Glibc.socket(domain, type | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), proto)
        if fd < 0 { throw Errno(rawValue: csluice_errno()) }
        return FD(fd)
    }

    /// setsockopt(2) with an int value.
    @inline(never)
    public static func setsockopt(_ fd: FD, level: CInt, option: CInt, value: CInt) throws(Errno) {
        var v = value
        let rc = Glibc.setsockopt(fd.rawValue, level, option, &v, socklen_t(MemoryLayout<CInt>.size))
        if rc != 0 { throw Errno(rawValue: csluice_errno()) }
    }

    /// getsockopt(2) for an int value.
    @inline(never)
    public static func getsockopt(_ fd: FD, level: CInt, option: CInt) throws(Errno) -> CInt {
        var v: CInt = 0
        var len = socklen_t(MemoryLayout<CInt>.size)
        let rc = Glibc.getsockopt(fd.rawValue, level, option, &v, &len)
        if rc != 0 { throw Errno(rawValue: csluice_errno()) }
        return v
    }

    /// The pending error of a socket (SO_ERROR), which also clears it: how a non-blocking connect reports its
    /// outcome. Returns nil when there is none.
    @inline(never)
    public static func pendingError(_ fd: FD) -> Errno? {
        var v: CInt = 0
        var len = socklen_t(MemoryLayout<CInt>.size)
        let rc = Glibc.getsockopt(fd.rawValue, SOL_SOCKET, SO_ERROR, &v, &len)
        if rc != 0 { return Errno(rawValue: csluice_errno()) }
        return v == 0 ? nil : Errno(rawValue: v)
    }

    /// bind(2) to an IP endpoint.
    @inline(never)
    public static func bind(_ fd: FD, to endpoint: IPEndpoint) throws(Errno) {
        let rc = endpoint.withSockaddr { Glibc.bind(fd.rawValue, $0, $1) }
        if rc != 0 { throw Errno(rawValue: csluice_errno()) }
    }

    /// bind(2) to a unix socket path (at most 107 bytes).
    @inline(never)
    public static func bind(_ fd: FD, toUnixPath path: String) throws(Errno) {
        var sun = sockaddr_un()
        sun.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: sun.sun_path)
        guard bytes.count < capacity else { throw Errno(rawValue: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &sun.sun_path) { dst in
            for (i, b) in bytes.enumerated() { dst[i] = b }
            dst[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &sun) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd.rawValue, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if rc != 0 { throw Errno(rawValue: csluice_errno()) }
    }

    /// connect(2) to a unix socket path, non-blocking. EAGAIN (the listener's backlog is full) is returned as
    /// `.failed`: unlike EINPROGRESS, no connection is pending, so there is nothing to wait for.
    @inline(never)
    public static func connect(_ fd: FD, toUnixPath path: String) -> ConnectResult {
        var sun = sockaddr_un()
        sun.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: sun.sun_path) else { return .failed(Errno(rawValue: ENAMETOOLONG)) }
        withUnsafeMutableBytes(of: &sun.sun_path) { dst in
            for (i, b) in bytes.enumerated() { dst[i] = b }
            dst[bytes.count] = 0
        }
        while true {
            let rc = withUnsafePointer(to: &sun) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd.rawValue, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if rc == 0 { return .connected }
            let err = csluice_errno()
            switch err {
            case EINTR: continue
            // EAGAIN is not "in progress" for AF_UNIX: the socket stays unconnected, yet it polls writable at
            // once with SO_ERROR 0, so waiting for writability would report a connection that does not exist
            // (the first send then fails with ENOTCONN). Linux 6.x; HAProxy also treats it as a failure.
            case EINPROGRESS: return .inProgress
            case EBADF, EFAULT, ENOTSOCK: unacceptable(err, "connect")
            default: return .failed(Errno(rawValue: err))
            }
        }
    }

    /// listen(2).
    @inline(never)
    public static func listen(_ fd: FD, backlog: CInt) throws(Errno) {
        if Glibc.listen(fd.rawValue, backlog) != 0 { throw Errno(rawValue: csluice_errno()) }
    }

    /// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC, returning the peer's address. EINTR and ECONNABORTED are
    /// retried here (the next pending connection is as good), as HAProxy's listener_accept does.
    @inline(never)
    public static func accept4(_ fd: FD) -> AcceptResult {
        var storage = sockaddr_storage()
        while true {
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let newFD = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    csluice_accept4(fd.rawValue, $0, &len, CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue))
                }
            }
            if newFD >= 0 {
                let peer = withUnsafePointer(to: &storage) { IPEndpoint(sockaddr: UnsafeRawPointer($0), length: len) }
                return .accepted(FD(newFD), peer: peer)
            }
            let err = csluice_errno()
            switch err {
            case EINTR, ECONNABORTED: continue
            case EAGAIN: return .wouldBlock
            case EBADF, EFAULT, ENOTSOCK: unacceptable(err, "accept4")
            default: return .failed(Errno(rawValue: err))
            }
        }
    }

    /// Non-blocking connect(2) to an IP endpoint.
    @inline(never)
    public static func connect(_ fd: FD, to endpoint: IPEndpoint) -> ConnectResult {
        while true {
            let rc = endpoint.withSockaddr { Glibc.connect(fd.rawValue, $0, $1) }
            if rc == 0 { return .connected }
            let err = csluice_errno()
            switch err {
            case EINTR: continue
            // A second connect() on a pending socket is how its progress is probed without SO_ERROR (HAProxy's
            // tcp_connect_probe): EALREADY = still in progress, EISCONN = established.
            case EINPROGRESS, EALREADY: return .inProgress
            case EISCONN: return .connected
            case EBADF, EFAULT, ENOTSOCK: unacceptable(err, "connect")
            default: return .failed(Errno(rawValue: err))
            }
        }
    }

    /// recv(2) into `buffer`.
    @inline(never)
    public static func recv(_ fd: FD, into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let n = Glibc.recv(fd.rawValue, buffer.baseAddress, buffer.count, 0)
            if n > 0 { return .processed(n) }
            if n == 0 { return .eof }
            let err = csluice_errno()  // nothing may run between the call and this read
            switch err {
            case EINTR: continue
            case EAGAIN: return .wouldBlock
            case EBADF, EFAULT, ENOTSOCK: unacceptable(err, "recv")
            default: return .failed(Errno(rawValue: err))
            }
        }
    }

    /// send(2) from `buffer` with MSG_NOSIGNAL (a closed peer gives EPIPE, never SIGPIPE). `more` adds
    /// MSG_MORE when more data follows at once.
    @inline(never)
    public static func send(_ fd: FD, from buffer: UnsafeRawBufferPointer, more: Bool = false) -> IOResult {
        let flags = CInt(MSG_NOSIGNAL) | (more ? CInt(MSG_MORE) : 0)
        while true {
            let n = Glibc.send(fd.rawValue, buffer.baseAddress, buffer.count, flags)
            if n >= 0 { return n == 0 ? .wouldBlock : .processed(n) }
            let err = csluice_errno()
            switch err {
            case EINTR: continue
            case EAGAIN: return .wouldBlock
            case EBADF, EFAULT, ENOTSOCK: unacceptable(err, "send")
            default: return .failed(Errno(rawValue: err))
            }
        }
    }

    /// shutdown(2). Failures (ENOTCONN on a socket that is already gone) are not interesting and are ignored.
    @inline(never)
    public static func shutdown(_ fd: FD, how: CInt) {
        let rc = Glibc.shutdown(fd.rawValue, how)
        if rc != 0 {
            let err = csluice_errno()
            if err == EBADF || err == ENOTSOCK { unacceptable(err, "shutdown") }
        }
    }

    /// Half-close: no more data will be sent (FIN).
    @inlinable
    public static func shutdownWrite(_ fd: FD) { shutdown(fd, how: CInt(SHUT_WR)) }

    /// Sets SO_LINGER {1, 0} so that close() sends a reset instead of a FIN (used to abort a connection).
    @inline(never)
    public static func setLingerReset(_ fd: FD) {
        var l = linger(l_onoff: 1, l_linger: 0)
        _ = Glibc.setsockopt(fd.rawValue, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
    }

    /// getsockname(2) as an IPEndpoint (`.none` on failure).
    @inline(never)
    public static func localEndpoint(_ fd: FD) -> IPEndpoint {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.getsockname(fd.rawValue, $0, &len) }
        }
        if rc != 0 { return .none }
        return withUnsafePointer(to: &storage) { IPEndpoint(sockaddr: UnsafeRawPointer($0), length: len) }
    }

    /// The socket's type (SOCK_STREAM, ...) and whether it is listening; nil if `fd` is not a socket.
    @inline(never)
    public static func socketInfo(_ fd: FD) -> (type: CInt, isListening: Bool, domain: CInt)? {
        guard let type = try? getsockopt(fd, level: SOL_SOCKET, option: SO_TYPE) else { return nil }
        let listening = (try? getsockopt(fd, level: SOL_SOCKET, option: SO_ACCEPTCONN)) ?? 0
        let domain = (try? getsockopt(fd, level: SOL_SOCKET, option: SO_DOMAIN)) ?? 0
        return (type, listening != 0, domain)
    }

    /// The path a unix socket is bound to ("" when unnamed or not a unix socket).
    @inline(never)
    public static func localUnixPath(_ fd: FD) -> String {
        var sun = sockaddr_un()
        var len = socklen_t(MemoryLayout<sockaddr_un>.size)
        let rc = withUnsafeMutablePointer(to: &sun) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.getsockname(fd.rawValue, $0, &len) }
        }
        guard rc == 0, sun.sun_family == sa_family_t(AF_UNIX) else { return "" }
        return withUnsafeBytes(of: sun.sun_path) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
