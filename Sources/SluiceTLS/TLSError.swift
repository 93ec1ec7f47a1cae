// SPDX-License-Identifier: Apache-2.0
// TLS errors and OpenSSL's (thread-local) error queue. Invariant: the queue is empty whenever control leaves
// SluiceTLS. Every failure path drains it here, once, out of line, into a message the caller can log; debug
// builds assert it is empty before each OpenSSL I/O call, so a path that forgot to drain is caught at once.
internal import CSluiceSSL
import Glibc
import SluiceCore

/// A TLS setting that cannot be applied: a missing or unreadable file, a key that does not match its
/// certificate, an invalid CA file, a cipher string OpenSSL rejects... Raised only while a `TLSContext` is built
/// (config load or reload). `message` names the file or the setting; the proxy prefixes `[file:line]`.
public struct TLSConfigError: Error, Equatable, CustomStringConvertible {
    /// One line, e.g. `unable to load certificate file 'x.pem': No such file or directory`.
    public let message: String

    init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

/// Why one connection failed (handshake, read, write, shutdown, or setting the connection up). The connection is
/// unusable afterwards: the owner logs `message` and closes.
public struct TLSError: Error, Equatable, CustomStringConvertible {
    /// One line: the OpenSSL call, then OpenSSL's error strings (`error:0A000086:SSL routines::certificate
    /// verify failed`), plus the X509 verify error when the peer's certificate was rejected, or the errno text
    /// when a system call failed.
    public let message: String
    /// The errno of a failed system call (SSL_ERROR_SYSCALL), e.g. ECONNRESET; nil for protocol errors.
    public let systemError: Errno?

    init(_ message: String, systemError: Errno? = nil) {
        self.message = message
        self.systemError = systemError
    }

    /// The message.
    public var description: String { message }
}

/// The calling thread's OpenSSL error queue. Loop thread only (the queue is per thread).
public enum TLSErrorQueue {
    /// True when no error is queued (`ERR_peek_error() == 0`). Tests assert it at the end of every case; it
    /// is true whenever control is outside SluiceTLS.
    public static var isEmpty: Bool { ERR_peek_error() == 0 }

    /// Debug builds: traps when an earlier path left an error behind. Release builds: nothing.
    @inline(__always)
    static func assertEmpty(before call: StaticString) {
        assert(ERR_peek_error() == 0, "OpenSSL error queue not empty before \(call): \(peekText())")
    }

    /// Removes every queued error and returns them as one line (`a; b; c`), plus the reason code of the first
    /// one (0 when the queue was empty). Uses a fixed stack buffer per entry; the String is built only here,
    /// on failure paths.
    @inline(never)
    static func drain() -> (text: String, firstReason: CInt) {
        var text = ""
        var firstReason: CInt = 0
        var count = 0
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
            while true {
                let code = ERR_get_error()
                if code == 0 { break }
                count += 1
                if count == 1 { firstReason = ERR_GET_REASON(code) }
                // Long chains repeat themselves; the first few entries say what happened.
                if count > 4 { continue }
                ERR_error_string_n(code, buffer.baseAddress, buffer.count)
                if count > 1 { text += "; " }
                text += String(cString: buffer.baseAddress!)
            }
        }
        if count > 4 { text += "; (\(count - 4) more)" }
        return (text, firstReason)
    }

    /// Empties the queue without reading it: for calls whose failure is expected and reported otherwise.
    static func discard() {
        ERR_clear_error()
    }

    /// The first queued error as text, without removing it (assert messages only).
    @inline(never)
    static func peekText() -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
            ERR_error_string_n(ERR_peek_error(), buffer.baseAddress, buffer.count)
            return String(cString: buffer.baseAddress!)
        }
    }

    /// `what: <queued errors>` or just `what` when OpenSSL queued nothing; drains the queue.
    @inline(never)
    static func message(_ what: String) -> String {
        let drained = drain().text
        return drained.isEmpty ? what : "\(what): \(drained)"
    }
}
