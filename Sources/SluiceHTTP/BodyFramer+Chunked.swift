// SPDX-License-Identifier: Apache-2.0
// BodyFramer, chunked coding (RFC 9112 §7.1): the byte-level state machine over chunk-size lines, chunk data,
// and the trailer section. Stricter than HAProxy on line ends: every line in chunked framing must end with CRLF,
// because the bytes are forwarded unchanged and a bare LF is where proxies and servers disagree.

extension BodyFramer {
    /// Follows chunked framing over `bytes`; skips chunk data in one step and inspects every other byte once.
    @usableFromInline
    mutating func feedChunked(_ bytes: UnsafeRawBufferPointer) -> Step {
        var i = 0
        let count = bytes.count
        while i < count {
            if state == .chunkData {
                let available = Int64(count - i)
                if available < remaining {
                    remaining -= available
                    return .consumed(count)
                }
                i += Int(remaining)
                remaining = 0
                state = .chunkDataCR
                continue
            }
            let byte = bytes[i]
            i += 1
            switch state {
            case .chunkSize:
                if let digit = ByteClass.hexValue(byte) {
                    // Checked before shifting, so the value never exceeds maxChunkSize.
                    guard remaining <= (BodyFramer.maxChunkSize - Int64(digit)) >> 4 else {
                        return fail(.chunkSizeOverflow)
                    }
                    remaining = remaining << 4 | Int64(digit)
                    sizeDigits += 1
                } else if sizeDigits == 0 {
                    return fail(.badChunkSize)
                } else if byte == ByteClass.cr {
                    state = .chunkSizeLF
                } else if byte == UInt8(ascii: ";") {
                    state = .chunkExtension
                } else if ByteClass.isWhitespace(byte) {
                    state = .chunkSizeSpace
                } else {
                    return fail(byte == ByteClass.lf ? .badChunkFraming : .badChunkSize)
                }
            case .chunkSizeSpace:
                if byte == ByteClass.cr {
                    state = .chunkSizeLF
                } else if byte == UInt8(ascii: ";") {
                    state = .chunkExtension
                } else if !ByteClass.isWhitespace(byte) {
                    return fail(byte == ByteClass.lf ? .badChunkFraming : .badChunkSize)
                }
            case .chunkExtension:
                // Extensions are forwarded, not interpreted; only bytes that could end a line elsewhere or that
                // no field may hold are refused.
                if byte == ByteClass.cr {
                    state = .chunkSizeLF
                } else if !ByteClass.isFieldValueChar(byte) {
                    return fail(byte == ByteClass.lf ? .badChunkFraming : .badChunkSize)
                }
            case .chunkSizeLF:
                guard byte == ByteClass.lf else { return fail(.bareCarriageReturn) }
                sizeDigits = 0
                state = remaining == 0 ? .trailerLineStart : .chunkData
            case .chunkDataCR:
                guard byte == ByteClass.cr else { return fail(.badChunkFraming) }
                state = .chunkDataLF
            case .chunkDataLF:
                guard byte == ByteClass.lf else { return fail(.badChunkFraming) }
                state = .chunkSize
            case .trailerLineStart:
                if byte == ByteClass.cr {
                    state = .finalLF
                } else if ByteClass.isTokenChar(byte) {
                    state = .trailerName
                } else {
                    return fail(byte == ByteClass.lf ? .badChunkFraming : .badTrailer)
                }
            case .trailerName:
                if byte == ByteClass.colon {
                    state = .trailerValue
                } else if !ByteClass.isTokenChar(byte) {
                    return fail(.badTrailer)
                }
            case .trailerValue:
                if byte == ByteClass.cr {
                    state = .trailerLF
                } else if !ByteClass.isFieldValueChar(byte) {
                    return fail(byte == ByteClass.lf ? .badChunkFraming : .badTrailer)
                }
            case .trailerLF:
                guard byte == ByteClass.lf else { return fail(.bareCarriageReturn) }
                state = .trailerLineStart
            case .finalLF:
                guard byte == ByteClass.lf else { return fail(.bareCarriageReturn) }
                state = .done
                return .done(consumed: i)
            case .done, .failed, .counting, .endless, .chunkData:
                preconditionFailure("BodyFramer.feedChunked in state \(state)")
            }
        }
        return .consumed(count)
    }
}
