// SPDX-License-Identifier: Apache-2.0
// Errno: the C errno value as a type, with names only for the values sluice handles explicitly.
// Description text is built on strerror and kept out of line: it is never needed on the hot path.
import Glibc

/// An errno value returned by a failed system call. Names exist for the errnos sluice reacts to; any other value
/// is still carried and described through strerror.
@frozen
public struct Errno: RawRepresentable, Error, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: CInt

    @inlinable
    public init(rawValue: CInt) { self.rawValue = rawValue }

    public static let interrupted = Errno(rawValue: EINTR)
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    public static let inProgress = Errno(rawValue: EINPROGRESS)
    public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    public static let connectionReset = Errno(rawValue: ECONNRESET)
    public static let connectionAborted = Errno(rawValue: ECONNABORTED)
    public static let brokenPipe = Errno(rawValue: EPIPE)
    public static let timedOut = Errno(rawValue: ETIMEDOUT)
    public static let tooManyOpenFiles = Errno(rawValue: EMFILE)
    public static let fileTableOverflow = Errno(rawValue: ENFILE)
    public static let noBufferSpace = Errno(rawValue: ENOBUFS)
    public static let noMemory = Errno(rawValue: ENOMEM)
    public static let addressInUse = Errno(rawValue: EADDRINUSE)
    public static let addressNotAvailable = Errno(rawValue: EADDRNOTAVAIL)
    public static let permissionDenied = Errno(rawValue: EACCES)
    public static let notPermitted = Errno(rawValue: EPERM)
    public static let noSuchFile = Errno(rawValue: ENOENT)
    public static let hostUnreachable = Errno(rawValue: EHOSTUNREACH)
    public static let networkUnreachable = Errno(rawValue: ENETUNREACH)
    public static let notConnected = Errno(rawValue: ENOTCONN)

    /// True for the errnos that mean "the process or system ran out of descriptors or memory": the accept loop
    /// pauses the listener on a timer instead of spinning on them.
    @inlinable
    public var isResourceExhaustion: Bool {
        rawValue == EMFILE || rawValue == ENFILE || rawValue == ENOBUFS || rawValue == ENOMEM
    }

    /// strerror text, e.g. "Connection refused".
    public var description: String { Errno.describe(rawValue) }

    @inline(never)
    static func describe(_ value: CInt) -> String {
        guard let text = strerror(value) else { return "errno \(value)" }
        return String(cString: text)
    }
}
