// SPDX-License-Identifier: Apache-2.0
// ACL building blocks: IP networks, integer patterns, string match methods, compile errors, and the three-valued
// logic of conditions (OR of ANDs, negation, unless, need-more-data).
import SluiceConfig
import SluiceCore
import XCTest

@testable import SluiceProxy

final class ACLTests: XCTestCase {
    private let here = SourceLocation(file: "t.cfg", line: 3)

    func testIPNetwork_ipv4Prefix_matchesInsideOnly() {
        let n = IPNetwork("10.1.0.0/16")!
        XCTAssertTrue(n.contains(IPEndpoint(ipv4: 0x0A01_FFFF, port: 0)))
        XCTAssertFalse(n.contains(IPEndpoint(ipv4: 0x0A02_0000, port: 0)))
    }

    func testIPNetwork_dottedMask_isAccepted() {
        XCTAssertEqual(IPNetwork("10.1.0.0/255.255.0.0")?.prefixLength, 16)
        XCTAssertNil(IPNetwork("10.1.0.0/255.0.255.0"))
    }

    func testIPNetwork_ipv6AndMappedIPv4() {
        XCTAssertTrue(IPNetwork("::1")!.contains(IPEndpoint(ipv6High: 0, low: 1, port: 0)))
        XCTAssertTrue(IPNetwork("127.0.0.0/8")!.contains(IPEndpoint(ipv6High: 0, low: 0xFFFF_7F00_0001, port: 0)))
    }

    func testIPNetwork_garbage_isRejected() {
        XCTAssertNil(IPNetwork("not-an-ip"))
        XCTAssertNil(IPNetwork("10.0.0.0/33"))
    }

    func testIntegerPattern_rangesAndOperators() {
        XCTAssertTrue(IntegerPattern("8000:8080")!.contains(8080))
        XCTAssertFalse(IntegerPattern("8000:8080")!.contains(8081))
        XCTAssertTrue(IntegerPattern(":10")!.contains(-5))
        XCTAssertTrue(IntegerPattern("gt 0")!.contains(1))
        XCTAssertFalse(IntegerPattern("gt 0")!.contains(0))
        XCTAssertTrue(IntegerPattern("le 3")!.contains(3))
        XCTAssertNil(IntegerPattern("9:1"))
        XCTAssertNil(IntegerPattern("about 3"))
    }

    private func match(_ s: String, _ p: String, _ m: MatchMethod, ignoreCase: Bool = false) -> Bool {
        let pattern = ignoreCase ? p.lowercased() : p
        return Array(s.utf8).withUnsafeBytes { sb in
            Array(pattern.utf8).withUnsafeBytes { pb in
                CompiledTest.matchString(sb, pb, method: m, ignoreCase: ignoreCase)
            }
        }
    }

    func testMatchString_everyMethod() {
        XCTAssertTrue(match("/static/a.css", "/static/a.css", .exact))
        XCTAssertFalse(match("/static/a.css", "/static", .exact))
        XCTAssertTrue(match("/static/a.css", "/static", .prefix))
        XCTAssertTrue(match("/static/a.css", ".css", .suffix))
        XCTAssertTrue(match("/static/a.css", "tic/a", .substring))
        XCTAssertTrue(match("www.Example.com", "EXAMPLE.COM", .suffix, ignoreCase: true))
        XCTAssertFalse(match("www.Example.com", "EXAMPLE.COM", .suffix))
        XCTAssertTrue(match("api.example.com", "example", .domain))
        XCTAssertFalse(match("api.examples.com", "example", .domain))
        XCTAssertTrue(match("/a/img/b", "img", .directory))
        XCTAssertFalse(match("/a/images/b", "img", .directory))
    }

    func testCompile_unknownFetch_isAnError() {
        let t = ACLTest(fetch: SampleFetch(name: "sc0_http_req_rate"), method: .integer, ignoreCase: false, patterns: ["1"], location: here)
        guard case .failure(let e) = CompiledTest.compile(t) else { return XCTFail("expected failure") }
        XCTAssertEqual(e.rendered, "[ALERT] parsing [t.cfg:3] : fetch 'sc0_http_req_rate' is not supported by sluice")
    }

    func testCompile_badNetwork_namesThePattern() {
        let t = ACLTest(fetch: SampleFetch(name: "src"), method: .ip, ignoreCase: false, patterns: ["1.2.3"], location: here)
        guard case .failure(let e) = CompiledTest.compile(t) else { return XCTFail("expected failure") }
        XCTAssertEqual(e.rendered, "[ALERT] parsing [t.cfg:3] : '1.2.3' is not a valid IPv4 or IPv6 address or network")
    }

    func testCondition_orOfAnds_negation_unless_needMore() {
        func cond(_ polarity: Condition.Polarity, _ alts: [[(Bool, Int)]]) -> CompiledCondition {
            CompiledCondition(Condition(polarity: polarity, alternatives: alts.map { $0.map { .init(negated: $0.0, aclIndex: $0.1) } }))
        }
        let results: [MatchResult] = [.yes, .no, .needMore]
        func eval(_ c: CompiledCondition) -> String {
            switch c.combine({ results[$0] }) {
            case .yes: return "yes"
            case .no: return "no"
            case .needMore: return "wait"
            }
        }
        XCTAssertEqual(eval(cond(.ifTrue, [[(false, 0), (false, 1)]])), "no")  // yes AND no
        XCTAssertEqual(eval(cond(.ifTrue, [[(false, 0), (true, 1)]])), "yes")  // yes AND !no
        XCTAssertEqual(eval(cond(.ifTrue, [[(false, 1)], [(false, 0)]])), "yes")  // no OR yes
        XCTAssertEqual(eval(cond(.ifTrue, [[(false, 0), (false, 2)]])), "wait")  // yes AND unknown
        XCTAssertEqual(eval(cond(.ifTrue, [[(false, 1), (false, 2)]])), "no")  // no AND unknown
        XCTAssertEqual(eval(cond(.ifTrue, [[(false, 2)], [(false, 0)]])), "yes")  // unknown OR yes
        XCTAssertEqual(eval(cond(.ifTrue, [[(true, 2)]])), "wait")  // !unknown
        XCTAssertEqual(eval(cond(.unless, [[(false, 0)]])), "no")
        XCTAssertEqual(eval(cond(.unless, [[(false, 1)]])), "yes")
    }
}
