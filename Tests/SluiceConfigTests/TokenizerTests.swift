// SPDX-License-Identifier: Apache-2.0
// Tokenizer: HAProxy's quoting, escaping, comments, environment expansion (double quotes only), line endings.

import XCTest

@testable import SluiceConfig

final class TokenizerTests: XCTestCase {
    private let variables = ["A": "alpha", "EMPTY": "", "LIST": "x  y z", "SP": "a b"]

    private func words(_ line: String) -> [String] {
        switch Tokenizer.words(of: Array(line.utf8)[...], variable: { self.variables[$0] }, pseudo: { _ in "P" }) {
        case .success(let words): return words
        case .failure(let error): return ["ERROR: \(error.message)"]
        }
    }

    func testWords_plainLine_splitsOnSpacesAndTabs() {
        XCTAssertEqual(words("  bind \t:80   name x  "), ["bind", ":80", "name", "x"])
    }

    func testWords_hash_startsComment() {
        XCTAssertEqual(words("maxconn 10 # ten"), ["maxconn", "10"])
        XCTAssertEqual(words("# only a comment"), [])
        XCTAssertEqual(words("a#b"), ["a"])
    }

    func testWords_quotedHash_isNotComment() {
        XCTAssertEqual(words("x \"a # b\" 'c#d' e\\#f"), ["x", "a # b", "c#d", "e#f"])
    }

    func testWords_doubleQuotes_keepSpacesAndJoinAdjacentText() {
        XCTAssertEqual(words("log-tag \"a b\"c 'd e'\"f\""), ["log-tag", "a bc", "d ef"])
    }

    func testWords_emptyQuotes_giveEmptyWord() {
        XCTAssertEqual(words("a \"\" b ''"), ["a", "", "b", ""])
    }

    func testWords_backslashEscapes_outsideQuotes() {
        XCTAssertEqual(words("a\\ b c\\\\d \\\"e\\' \\t\\n\\r"), ["a b", "c\\d", "\"e'", "\t\n\r"])
    }

    func testWords_hexEscape_insideDoubleQuotes() {
        XCTAssertEqual(words("\"\\x41\\x62\" \\x20"), ["Ab", " "])
    }

    func testWords_badHexEscape_isError() {
        XCTAssertEqual(words("a \\xZ1"), ["ERROR: truncated or invalid hexadecimal sequence at position 3"])
        XCTAssertEqual(words("a \\x4"), ["ERROR: truncated or invalid hexadecimal sequence at position 3"])
    }

    func testWords_otherBackslash_isKept() {
        XCTAssertEqual(words("reg ^/(a)\\1$"), ["reg", "^/(a)\\1$"])
    }

    func testWords_singleQuotes_interpretNothing() {
        XCTAssertEqual(words("'${A} \\n \"x\"'"), ["${A} \\n \"x\""])
    }

    func testWords_variable_expandsInsideDoubleQuotesOnly() {
        XCTAssertEqual(words("\"${A}\" ${A} '${A}' \"$A-x\""), ["alpha", "${A}", "${A}", "alpha-x"])
    }

    func testWords_unsetVariable_expandsToEmpty() {
        XCTAssertEqual(words("x \"${NOPE}\" \"<${NOPE}>\""), ["x", "", "<>"])
    }

    func testWords_variableDefault_usedOnlyWhenUnset() {
        XCTAssertEqual(words("\"${NOPE-127.0.0.1}:514\" \"${A-zz}\" \"${EMPTY-zz}\""), ["127.0.0.1:514", "alpha", ""])
    }

    func testWords_escapedDollar_insideDoubleQuotes_isLiteral() {
        XCTAssertEqual(words("\"\\${A}\" \\$x"), ["${A}", "\\$x"])
    }

    func testWords_wordExpansion_splitsValue() {
        XCTAssertEqual(words("k \"${LIST[*]}\" end"), ["k", "x", "y", "z", "end"])
    }

    func testWords_pseudoVariables_resolve() {
        XCTAssertEqual(words("\"${.LINE}\""), ["P"])
    }

    func testWords_unmatchedQuote_isError() {
        XCTAssertEqual(words("a \"b c"), ["ERROR: unmatched quote at position 3"])
        XCTAssertEqual(words("a 'b"), ["ERROR: unmatched quote at position 3"])
    }

    func testWords_unmatchedBrace_isError() {
        XCTAssertEqual(words("\"${A\""), ["ERROR: unmatched brace in environment variable name at position 3"])
        XCTAssertEqual(words("\"${A-x\""), ["ERROR: unmatched brace in environment variable name at position 3"])
    }

    func testWords_badVariableName_isError() {
        XCTAssertEqual(words("\"$1\""), ["ERROR: forbidden first char in environment variable name at position 3"])
    }

    func testWords_badWordExpansion_isError() {
        XCTAssertEqual(words("\"${A[x]}\""), ["ERROR: truncated or invalid word expansion sequence at position 5"])
    }

    func testLines_crlfAndMissingFinalNewline_areLines() {
        let lines = Tokenizer.lines(of: Array("a\r\nb\n\nc".utf8))
        XCTAssertEqual(lines.map(\.number), [1, 2, 3, 4])
        XCTAssertEqual(lines.map { String(decoding: $0.bytes, as: UTF8.self) }, ["a", "b", "", "c"])
    }

    func testExpandAddressVariables_unquotedDollar_expands() {
        XCTAssertEqual(Tokenizer.expandAddressVariables("fd@${A}", variable: { self.variables[$0] }), "fd@alpha")
        XCTAssertEqual(Tokenizer.expandAddressVariables(":$A", variable: { self.variables[$0] }), ":alpha")
        XCTAssertEqual(Tokenizer.expandAddressVariables("x${NO}y", variable: { self.variables[$0] }), "xy")
    }

    func testParse_crlfFile_parsesLikeLF() {
        let text = inFrontend("maxconn 5").replacingOccurrences(of: "\n", with: "\r\n")
        XCTAssertEqual(assertValid(text)?.frontends.first?.maxconn, 5)
    }

    func testParse_lastLineWithoutNewline_isParsed() {
        var text = inFrontend("maxconn 7")
        text.removeLast()
        XCTAssertEqual(assertValid(text)?.frontends.first?.maxconn, 7)
    }

    func testParse_tokenizerError_isAlertWithLine() {
        assertDiagnostics(inFrontend("maxconn \"12"), ["[ALERT] parsing [t.cfg:11] : unmatched quote at position 9"])
    }

    func testParse_environmentVariable_inQuotedArgument() {
        let config = assertValid(inFrontend("bind \"127.0.0.1:${PORT}\""))
        XCTAssertEqual(config?.frontends.first?.binds.last?.addresses, [.inet(.ipv4(address: 0x7F00_0001, port: 8443))])
    }

    func testParse_unsetVariableWithDefault_inQuotedArgument() {
        let config = assertValid(inFrontend("maxconn \"${NOT_SET-42}\""))
        XCTAssertEqual(config?.frontends.first?.maxconn, 42)
    }
}
