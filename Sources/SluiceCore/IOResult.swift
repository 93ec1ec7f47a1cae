// SPDX-License-Identifier: Apache-2.0
// IOResult: the outcome of one non-blocking read or write. EAGAIN is a result here, not an error, so that the
// hot path never throws and never boxes an error.

/// What one non-blocking `recv`/`send`/`SSL_read`/`SSL_write` did.
@frozen
public enum IOResult: Equatable, Sendable {
    /// This many bytes were transferred (always > 0).
    case processed(Int)
    /// The peer closed its sending side (recv returned 0).
    case eof
    /// The kernel answered EAGAIN: poll before trying again.
    case wouldBlock
    /// Any other failure; the session decides what it means.
    case failed(Errno)
}
