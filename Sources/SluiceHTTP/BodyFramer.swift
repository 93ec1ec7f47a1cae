// SPDX-License-Identifier: Apache-2.0
// BodyFramer: finds where a message body ends as its bytes arrive, without copying or changing them. Chunked
// bodies pass through whole (sizes, extensions, CRLFs, trailers); the framer only follows them, byte by byte,
// with a state that survives any split. It never looks past the end of the message: pipelined bytes stay put.

/// Incremental body delimiter for one message. Feed it the bytes that follow the head as they arrive; each call
/// says how many of them belong to this message. A plain value (a few integers), kept by the session.
public struct BodyFramer: Sendable {
    /// The outcome of one `feed`.
    public enum Step: Sendable, Equatable {
        /// All bytes fed belong to the body and it has not ended yet (the count is that of the bytes fed).
        case consumed(Int)
        /// The body ended after `consumed` bytes of those fed; the rest belongs to the next message.
        case done(consumed: Int)
        /// The body's framing is invalid; the connection cannot continue.
        case failed(HTTPParseError)
    }

    /// Where the framer stands in the body.
    @usableFromInline
    enum State: UInt8, Sendable {
        case done, failed
        case counting  // Content-Length: `remaining` bytes left
        case endless  // until close or tunnel: everything belongs to the body
        case chunkSize  // in the hex digits of a chunk-size line (`sizeDigits` so far)
        case chunkSizeSpace  // BWS after the digits: only ";" or CR may follow
        case chunkExtension  // after ";", up to CR
        case chunkSizeLF  // CR of the chunk-size line seen
        case chunkData  // `remaining` bytes of chunk data left
        case chunkDataCR  // expecting the CR after chunk data
        case chunkDataLF  // expecting the LF after chunk data
        case trailerLineStart  // at the start of a trailer line or of the final empty line
        case trailerName  // in a trailer field name
        case trailerValue  // after the colon, up to CR
        case trailerLF  // CR of a trailer line seen
        case finalLF  // CR of the empty line ending the message seen
    }

    /// Largest accepted chunk size: 2^52 - 1, HAProxy's bound (13 hex digits), which any server can represent
    /// exactly, even in a double: a server that wrapped a larger size would disagree with us about where the
    /// body ends, and we forward chunk sizes unchanged.
    public static let maxChunkSize: Int64 = (1 << 52) - 1

    @usableFromInline var state: State
    @usableFromInline var remaining: Int64 = 0
    @usableFromInline var sizeDigits: Int32 = 0
    @usableFromInline var error: HTTPParseError?
    /// True for a body delimited by the end of the connection (`untilClose`, `tunnel`).
    public let endsAtClose: Bool

    /// Starts a framer for a body of the given length. `.none` and `.contentLength(0)` are done at once.
    public init(_ length: BodyLength) {
        switch length {
        case .none:
            state = .done
            endsAtClose = false
        case .contentLength(let count):
            state = count > 0 ? .counting : .done
            remaining = max(count, 0)
            endsAtClose = false
        case .chunked:
            state = .chunkSize
            endsAtClose = false
        case .untilClose, .tunnel:
            state = .endless
            endsAtClose = true
        }
    }

    /// True once the body has ended (never for `untilClose` and `tunnel`, which end with the connection).
    public var isDone: Bool { state == .done }

    /// Bytes still expected by a Content-Length body, or left in the current chunk; 0 otherwise.
    public var remainingInChunkOrBody: Int64 {
        state == .counting || state == .chunkData ? remaining : 0
    }

    /// Reads `bytes`, the next bytes of the connection after what was fed before (the first call gets the bytes
    /// right after the head). Returns how many belong to the body; once `.done` or `.failed` it keeps returning
    /// the same answer with a count of 0. `bytes` is borrowed for the call only. Never allocates.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Step {
        switch state {
        case .done:
            return .done(consumed: 0)
        case .failed:
            return .failed(error ?? .badChunkFraming)
        case .endless:
            return .consumed(bytes.count)
        case .counting:
            if Int64(bytes.count) < remaining {
                remaining -= Int64(bytes.count)
                return .consumed(bytes.count)
            }
            let used = Int(remaining)
            remaining = 0
            state = .done
            return .done(consumed: used)
        default:
            return feedChunked(bytes)
        }
    }

    /// What the end of the connection means for this body: `.done` for a body delimited by it (or already
    /// complete), `.failed(.truncatedBody)` when Content-Length or chunked framing was cut short.
    public mutating func finishAtEndOfInput() -> Step {
        switch state {
        case .done, .endless:
            state = .done
            return .done(consumed: 0)
        case .failed:
            return .failed(error ?? .badChunkFraming)
        default:
            return fail(.truncatedBody)
        }
    }

    /// Moves to the failed state for good and returns the step that reports `reason`.
    @usableFromInline
    mutating func fail(_ reason: HTTPParseError) -> Step {
        state = .failed
        error = reason
        return .failed(reason)
    }
}
