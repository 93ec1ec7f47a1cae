// SPDX-License-Identifier: Apache-2.0
// LoadBalancer: each algorithm's choice over real Server objects (no sockets are opened).
import SluiceConfig
import SluiceCore
import XCTest

@testable import SluiceProxy

final class LoadBalancerTests: XCTestCase {
    private let here = SourceLocation(file: "test.cfg", line: 1)

    private func makeBackend(
        _ balance: BalanceAlgorithm,
        _ servers: [(name: String, weight: Int, maxconn: Int?, backup: Bool)]
    ) -> Backend {
        var p = ProxyConfig(name: "be", capabilities: .backend, location: here)
        p.balance = balance
        for (i, s) in servers.enumerated() {
            var o = ServerOptions()
            o.weight = s.weight
            o.maxconn = s.maxconn
            o.isBackup = s.backup
            p.servers.append(
                ServerConfig(
                    name: s.name,
                    addressText: "127.0.0.1:\(9000 + i)",
                    address: .ipv4(address: 0x7F00_0001, port: UInt16(9000 + i)),
                    options: o,
                    location: here
                )
            )
        }
        return Backend(config: p)
    }

    private func pickNames(_ b: Backend, _ count: Int, client: IPEndpoint = .none) -> [String] {
        (0..<count).map { _ in
            guard case .server(let s) = b.balancer.pick(b.servers, client: client) else { return "-" }
            return s.name
        }
    }

    func testRoundRobin_equalWeights_alternates() {
        let b = makeBackend(.roundRobin, [("a", 1, nil, false), ("b", 1, nil, false)])
        XCTAssertEqual(pickNames(b, 6), ["a", "b", "a", "b", "a", "b"])
    }

    func testRoundRobin_weights2to1_areSmoothAndExact() {
        let b = makeBackend(.roundRobin, [("a", 2, nil, false), ("b", 1, nil, false)])
        let picks = pickNames(b, 30)
        XCTAssertEqual(picks.filter { $0 == "a" }.count, 20)
        XCTAssertEqual(picks.filter { $0 == "b" }.count, 10)
        // Smooth: never three a's in a row.
        XCTAssertFalse(picks.joined().contains("aaa"), "\(picks)")
    }

    func testRoundRobin_fullServer_isSkipped() {
        let b = makeBackend(.roundRobin, [("a", 1, 1, false), ("b", 1, nil, false)])
        b.servers[0].acquireSlot()
        XCTAssertEqual(pickNames(b, 3), ["b", "b", "b"])
    }

    func testPick_allFull_queues() {
        let b = makeBackend(.roundRobin, [("a", 1, 1, false)])
        b.servers[0].acquireSlot()
        guard case .queue = b.balancer.pick(b.servers, client: .none) else { return XCTFail("expected .queue") }
    }

    func testPick_allInMaintenance_isUnavailable() {
        let b = makeBackend(.roundRobin, [("a", 1, nil, false)])
        b.servers[0].isInMaintenance = true
        guard case .unavailable = b.balancer.pick(b.servers, client: .none) else {
            return XCTFail("expected .unavailable")
        }
    }

    func testBackup_takesOverOnlyWhenNormalServersAreDown() {
        let b = makeBackend(.roundRobin, [("a", 1, nil, false), ("spare1", 1, nil, true), ("spare2", 1, nil, true)])
        XCTAssertEqual(pickNames(b, 2), ["a", "a"])
        b.servers[0].isUp = false
        XCTAssertEqual(pickNames(b, 2), ["spare1", "spare1"])
    }

    func testFirst_fillsServersInOrder() {
        let b = makeBackend(.first, [("a", 1, 2, false), ("b", 1, 2, false)])
        var names: [String] = []
        for _ in 0..<4 {
            guard case .server(let s) = b.balancer.pick(b.servers, client: .none) else { return XCTFail() }
            s.acquireSlot()
            names.append(s.name)
        }
        XCTAssertEqual(names, ["a", "a", "b", "b"])
    }

    func testLeastConn_prefersTheLeastLoaded() {
        let b = makeBackend(.leastConn, [("a", 1, nil, false), ("b", 1, nil, false)])
        b.servers[0].acquireSlot()
        b.servers[0].acquireSlot()
        XCTAssertEqual(pickNames(b, 1), ["b"])
    }

    func testSource_sameClientSameServer() {
        let b = makeBackend(.source, [("a", 1, nil, false), ("b", 1, nil, false), ("c", 1, nil, false)])
        let client = IPEndpoint(ipv4: 0x0A00_0001, port: 1234)
        let first = pickNames(b, 1, client: client)[0]
        XCTAssertEqual(pickNames(b, 5, client: client), Array(repeating: first, count: 5))
        // Different clients spread over the servers.
        var seen = Set<String>()
        for i in 0..<64 { seen.insert(pickNames(b, 1, client: IPEndpoint(ipv4: 0x0A00_0000 + UInt32(i), port: 1))[0]) }
        XCTAssertEqual(seen, ["a", "b", "c"])
    }

    func testRedispatch_excludedServerIsAvoided() {
        let b = makeBackend(.roundRobin, [("a", 1, nil, false), ("b", 1, nil, false)])
        for _ in 0..<4 {
            guard case .server(let s) = b.balancer.pick(b.servers, client: .none, excluding: b.servers[0]) else {
                return XCTFail()
            }
            XCTAssertEqual(s.name, "b")
        }
    }

    func testRandom_picksOnlyEligibleServers() {
        let b = makeBackend(.random(draws: 2), [("a", 1, nil, false), ("b", 1, nil, false)])
        b.servers[1].isInMaintenance = true
        XCTAssertEqual(Set(pickNames(b, 20)), ["a"])
    }
}
