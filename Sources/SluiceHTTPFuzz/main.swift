// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for SluiceHTTP: parses the input as a request and as a response, whole and split in two
// (the results must agree), then runs the body framer over the bytes after the head, whole and one byte at a
// time (the end must be found at the same place). Any disagreement traps, so libFuzzer reports it as a crash.
// Build and run: README.md, "Fuzzing". Built without SLUICE_FUZZING (a plain `swift build`), it is an
// executable that does nothing.
import SluiceHTTP

#if SLUICE_FUZZING
    /// libFuzzer's entry point for a program that has its own `main` (SwiftPM renames an executable's entry point to
    /// `SluiceHTTPFuzz_main` and aliases `main` to it, which hides the `main` of the libFuzzer runtime).
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// The program's entry point in a fuzzing build: hands the command line to libFuzzer.
    @_cdecl("SluiceHTTPFuzz_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var argc = argc
        var argv = argv
        return LLVMFuzzerRunDriver(&argc, &argv, fuzzHTTP)
    }
#endif
// No top-level statement: `-parse-as-library` refuses them even inside an inactive `#if` branch.

/// Parses `data` as a request or response, checks incremental parsing and framing against whole-buffer runs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    // The first byte picks the split point and the request method a response answers; the rest is the message.
    let control = bytes[0]
    let message = UnsafeRawBufferPointer(rebasing: bytes[1...])
    let methods: [HTTPMethod] = [.get, .head, .connect, .post]
    FuzzState.check(message, isRequest: true, split: Int(control), requestMethod: .get)
    FuzzState.check(message, isRequest: false, split: Int(control), requestMethod: methods[Int(control & 3)])
    return 0
}

/// The heads reused across inputs, as a session reuses its own.
enum FuzzState {
    nonisolated(unsafe) static let head = HTTPHead(maxHeaders: 16)
    nonisolated(unsafe) static let splitHead = HTTPHead(maxHeaders: 16)
    static let maxHeadBytes = 4096

    static func parse(_ bytes: UnsafeRawBufferPointer, isRequest: Bool, into head: HTTPHead, scanned: inout Int)
        -> HTTPHeadResult
    {
        isRequest
            ? HTTPHeadParser.parseRequest(bytes, into: head, scanned: &scanned, maxHeadBytes: maxHeadBytes)
            : HTTPHeadParser.parseResponse(bytes, into: head, scanned: &scanned, maxHeadBytes: maxHeadBytes)
    }

    static func check(_ message: UnsafeRawBufferPointer, isRequest: Bool, split: Int, requestMethod: HTTPMethod) {
        var scanned = 0
        let whole = parse(message, isRequest: isRequest, into: head, scanned: &scanned)

        // Same bytes in two calls: the first may complete early only if the head fits in it.
        var splitScanned = 0
        let cut = min(split, message.count)
        var incremental = parse(
            UnsafeRawBufferPointer(rebasing: message[..<cut]),
            isRequest: isRequest,
            into: splitHead,
            scanned: &splitScanned
        )
        if incremental == .incomplete {
            incremental = parse(message, isRequest: isRequest, into: splitHead, scanned: &splitScanned)
        }
        precondition(incremental == whole, "split at \(cut): \(incremental) vs \(whole)")
        guard whole == .complete else { return }
        precondition(head.headLength == splitHead.headLength, "head length differs after a split")
        precondition(head.headLength <= message.count && head.headLength <= maxHeadBytes)

        touchFields(message)
        let length = isRequest ? head.requestBodyLength() : head.responseBodyLength(requestMethod: requestMethod)
        let body = UnsafeRawBufferPointer(rebasing: message[head.headLength...])
        var oneGo = BodyFramer(length)
        let oneGoStep = oneGo.feed(body)
        var byteByByte = BodyFramer(length)
        // An empty feed first: a body of no bytes is already done or not, whatever follows.
        var stepped = byteByByte.feed(UnsafeRawBufferPointer(rebasing: body[0..<0]))
        var total = 0
        for offset in 0..<body.count where !byteByByte.isDone {
            stepped = byteByByte.feed(UnsafeRawBufferPointer(rebasing: body[offset..<(offset + 1)]))
            if case .consumed(let n) = stepped {
                precondition(n == 1, "consumed \(n) of 1 byte")
                total += 1
                continue
            }
            if case .done(let n) = stepped { total += n }
            break
        }
        switch (oneGoStep, stepped) {
        case (.done(let a), .done):
            precondition(a == total, "body ends at \(a) in one go, at \(total) byte by byte")
        case (.failed(let a), .failed(let b)):
            precondition(a == b, "framing error \(a) vs \(b)")
        case (.consumed(let a), _):
            precondition(a == body.count, "consumed \(a) of \(body.count)")
            if body.count > 0 { precondition(!byteByByte.isDone, "byte by byte ended, one go did not") }
        default:
            preconditionFailure("one go \(oneGoStep), byte by byte \(stepped)")
        }
    }

    /// Reads every range and runs the lookup helpers, so their bounds are exercised too.
    static func touchFields(_ message: UnsafeRawBufferPointer) {
        var checksum = 0
        for index in 0..<head.headerCount {
            let name = head.name(at: index)
            let value = head.value(at: index)
            // A Host normalized to an absolute-form authority points into the request line instead.
            let movedHost = head.defaultPortRange != nil && value == head.hostRange && value.end <= head.target.end
            precondition(name.end <= value.start || movedHost, "ranges out of order")
            precondition(Int(value.end) <= head.headLength, "value beyond the head")
            var elements = HTTPListElements(message, in: value)
            while let element = elements.next() { checksum &+= element.count }
        }
        _ = head.headerIndex(named: "connection", occurrence: -1, in: message)
        _ = head.headerLineCount(named: "host", in: message)
        if let host = head.hostRange { checksum &+= host.count }
        precondition(checksum >= 0)
    }
}
