// SPDX-License-Identifier: Apache-2.0
// ACL matchers and conditions: IP networks, port ranges, polarity and the OR-of-ANDs evaluation.
import SluiceConfig
import SluiceCore
import XCTest

@testable import SluiceProxy

private struct FixedSamples: SampleSource {
    var sourceAddress: IPEndpoint
    var destination: IPEndpoint
    mutating func destinationAddress() -> IPEndpoint { destination }
}

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
        // ::ffff:127.0.0.1 matches 127.0.0.0/8
        XCTAssertTrue(IPNetwork("127.0.0.0/8")!.contains(IPEndpoint(ipv6High: 0, low: 0xFFFF_7F00_0001, port: 0)))
    }

    func testIPNetwork_garbage_isRejected() {
        XCTAssertNil(IPNetwork("not-an-ip"))
        XCTAssertNil(IPNetwork("10.0.0.0/33"))
    }

    func testCompile_unknownFetch_isAnError() {
        let t = ACLTest(fetch: SampleFetch(name: "path"), method: .exact, ignoreCase: false, patterns: ["/"], location: here)
        guard case .failure(let e) = ACLMatcher.compile(t) else { return XCTFail("expected failure") }
        XCTAssertEqual(e.rendered, "[ALERT] parsing [t.cfg:3] : fetch 'path' is not supported by sluice")
    }

    func testCompile_badNetwork_namesThePattern() {
        let t = ACLTest(fetch: SampleFetch(name: "src"), method: .ip, ignoreCase: false, patterns: ["1.2.3"], location: here)
        guard case .failure(let e) = ACLMatcher.compile(t) else { return XCTFail("expected failure") }
        XCTAssertEqual(e.rendered, "[ALERT] parsing [t.cfg:3] : '1.2.3' is not a valid IPv4 or IPv6 address or network")
    }

    func testCondition_orOfAnds_withNegationAndUnless() throws {
        func matcher(_ fetch: String, _ patterns: [String]) throws -> ACLMatcher {
            let t = ACLTest(fetch: SampleFetch(name: fetch), method: .ip, ignoreCase: false, patterns: patterns, location: here)
            return try ACLMatcher.compile(t).get()
        }
        let acls: [[ACLMatcher]] = [
            [try matcher("src", ["127.0.0.0/8"])],
            [try matcher("dst_port", ["80", "8000:8080"])],
        ]
        var local8080 = FixedSamples(
            sourceAddress: IPEndpoint(ipv4: 0x7F00_0001, port: 5),
            destination: IPEndpoint(ipv4: 0x7F00_0001, port: 8080)
        )
        var remote443 = FixedSamples(
            sourceAddress: IPEndpoint(ipv4: 0x0A00_0001, port: 5),
            destination: IPEndpoint(ipv4: 0x7F00_0001, port: 443)
        )
        // src AND dst_port
        let both = CompiledCondition(Condition(polarity: .ifTrue, alternatives: [[.init(negated: false, aclIndex: 0), .init(negated: false, aclIndex: 1)]]))
        XCTAssertTrue(both.evaluate(acls, &local8080))
        XCTAssertFalse(both.evaluate(acls, &remote443))
        // !src || dst_port
        let either = CompiledCondition(Condition(polarity: .ifTrue, alternatives: [[.init(negated: true, aclIndex: 0)], [.init(negated: false, aclIndex: 1)]]))
        XCTAssertTrue(either.evaluate(acls, &remote443))
        // unless src
        let unless = CompiledCondition(Condition(polarity: .unless, alternatives: [[.init(negated: false, aclIndex: 0)]]))
        XCTAssertFalse(unless.evaluate(acls, &local8080))
        XCTAssertTrue(unless.evaluate(acls, &remote443))
    }
}
