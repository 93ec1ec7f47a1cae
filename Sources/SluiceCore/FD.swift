// SPDX-License-Identifier: Apache-2.0
// FD: a file descriptor number as a distinct type, so that an fd is never confused with a count or an index.
// It owns nothing: closing goes through Sys.close or, for registered fds, Poller.delete.

/// A file descriptor (the C `int`). A plain value: copying it does not duplicate the descriptor.
@frozen
public struct FD: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: CInt

    @inlinable
    public init(rawValue: CInt) { self.rawValue = rawValue }

    @inlinable
    public init(_ rawValue: CInt) { self.rawValue = rawValue }

    /// The conventional "no descriptor" value.
    public static let invalid = FD(rawValue: -1)

    public static let standardInput = FD(rawValue: 0)
    public static let standardOutput = FD(rawValue: 1)
    public static let standardError = FD(rawValue: 2)

    @inlinable
    public var isValid: Bool { rawValue >= 0 }

    public var description: String { "fd \(rawValue)" }
}
