// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for SluiceConfig: feeds the input, decoded as UTF-8 with replacement, to
// ConfigLoader.parse(text:fileName:) with a fixed environment (no getenv, no DNS), which must return
// diagnostics for anything it refuses and never trap. Build and run: README.md, "Fuzzing".
// Built without SLUICE_FUZZING (a plain `swift build`), it is an executable that does nothing.
import SluiceConfig

#if SLUICE_FUZZING
    /// libFuzzer's entry point for a program that has its own `main` (SwiftPM renames an executable's entry point to
    /// `SluiceConfigFuzz_main` and aliases `main` to it, which hides the `main` of the libFuzzer runtime).
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// The program's entry point in a fuzzing build: hands the command line to libFuzzer.
    @_cdecl("SluiceConfigFuzz_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var argc = argc
        var argv = argv
        return LLVMFuzzerRunDriver(&argc, &argv, fuzzConfig)
    }
#endif
// No top-level statement: `-parse-as-library` refuses them even inside an inactive `#if` branch.

/// Parses `data` as a configuration file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count > 0 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    let result = ConfigLoader.parse(text: text, fileName: "fuzz.cfg", environment: fixedEnvironment)
    precondition(result.configuration != nil || !result.diagnostics.isEmpty, "refused without a diagnostic")
    return 0
}

/// Variables and names resolve the same way for every input, so a crash reproduces.
let fixedEnvironment = ConfigEnvironment(
    variables: ["HOME": "/root", "PORT": "8080", "ADDR": "127.0.0.1"],
    users: ["haproxy": 99],
    groups: ["haproxy": 99]
)
