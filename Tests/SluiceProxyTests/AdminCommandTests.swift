// SPDX-License-Identifier: Apache-2.0
// Admin socket commands: line parsing (`;`, escapes), levels, HAProxy's answers and error texts, and their
// effect on servers, run against a real Loop and Runtime built from a configuration (no socket is bound).
import SluiceConfig
import SluiceCore
import XCTest

@testable import SluiceProxy

final class AdminCommandTests: XCTestCase {
    private static let config = """
        global
            stats socket /tmp/never-bound.sock level admin
        defaults
            mode http
            timeout connect 1s
            timeout client 5s
            timeout server 5s
        frontend fe
            bind 127.0.0.1:1
            default_backend be
        backend be
            balance roundrobin
            server s1 127.0.0.1:9001 weight 3
            server s2 127.0.0.1:9002
        backend static
            balance static-rr
            server a 127.0.0.1:9003 weight 2

        """

    private func makeLoop() throws -> Loop {
        let loaded = ConfigLoader.parse(text: Self.config, fileName: "t.cfg")
        let config = try XCTUnwrap(loaded.configuration, "\(loaded.diagnostics.map(\.rendered))")
        let built = Runtime.build(config, globalMaxConnections: 100, globalLogSinks: [], openLogs: false)
        let runtime = try XCTUnwrap(built.runtime, "\(built.errors.map(\.rendered))")
        let log = Logger()
        log.isQuiet = true
        return try Loop(
            runtime: runtime,
            configPaths: [],
            log: log,
            notifier: ServiceNotifier(),
            fdCapacity: 256,
            maxConnections: 100
        )
    }

    private func run(_ loop: Loop, _ line: String, level: StatsLevel = .admin) -> String {
        var ctx = AdminContext(level: level)
        return AdminCommandLine.parse(line).map { loop.runAdminCommand($0, &ctx) }.joined(separator: "|")
    }

    private func server(_ loop: Loop, _ b: String, _ s: String) throws -> Server {
        try XCTUnwrap(loop.runtime.backends.first { $0.name == b }?.servers.first { $0.name == s })
    }

    // MARK: parsing

    func testParse_splitsCommandsAndWords() {
        XCTAssertEqual(AdminCommandLine.parse("show stat"), [["show", "stat"]])
        XCTAssertEqual(AdminCommandLine.parse("  show   info ;show  stat  "), [["show", "info"], ["show", "stat"]])
        XCTAssertEqual(AdminCommandLine.parse("set server be/s1 state\\ x"), [["set", "server", "be/s1", "state x"]])
        XCTAssertEqual(AdminCommandLine.parse("a\\;b;c"), [["a;b"], ["c"]])
        XCTAssertEqual(AdminCommandLine.parse(""), [[]])
        XCTAssertEqual(AdminCommandLine.parse("help\t prompt"), [["help", "prompt"]])
    }

    func testFind_longestCommandMatch() {
        XCTAssertEqual(
            AdminCommand.find(["set", "maxconn", "server", "be/s1", "3"])?.words,
            ["set", "maxconn", "server"]
        )
        XCTAssertEqual(AdminCommand.find(["set", "server", "be/s1"])?.words, ["set", "server"])
        XCTAssertNil(AdminCommand.find(["set"]))
        XCTAssertNil(AdminCommand.find(["frobnicate"]))
    }

    func testHelpLine_paddedTo40Columns() {
        let c = AdminCommand.find(["quit"])!
        XCTAssertEqual(c.helpLine, "  quit                                    : disconnect")
    }

    func testParseWeight_haproxyRules() {
        XCTAssertEqual(parseServerWeight("5", initialWeight: 3, isStatic: false), .success(5))
        XCTAssertEqual(parseServerWeight("50%", initialWeight: 3, isStatic: false), .success(1))
        XCTAssertEqual(parseServerWeight("200%", initialWeight: 3, isStatic: false), .success(6))
        XCTAssertEqual(parseServerWeight("0", initialWeight: 3, isStatic: false), .success(0))
        XCTAssertEqual(
            parseServerWeight("300", initialWeight: 3, isStatic: false),
            .failure(AdminError("Absolute weight can only be between 0 and 256 inclusive.\n"))
        )
        XCTAssertEqual(
            parseServerWeight("abc", initialWeight: 3, isStatic: false),
            .failure(AdminError("Empty weight string empty or preceded by garbage"))
        )
        XCTAssertEqual(
            parseServerWeight("5x", initialWeight: 3, isStatic: false),
            .failure(AdminError("Trailing garbage in weight string"))
        )
        XCTAssertEqual(
            parseServerWeight("-5%", initialWeight: 3, isStatic: false),
            .failure(AdminError("Relative weight must be positive.\n"))
        )
        XCTAssertEqual(parseServerWeight("100%", initialWeight: 3, isStatic: true), .success(3))
        XCTAssertEqual(
            parseServerWeight("4", initialWeight: 3, isStatic: true),
            .failure(AdminError("Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n"))
        )
    }

    // MARK: commands

    func testLevels_userCannotChangeServers() throws {
        let loop = try makeLoop()
        XCTAssertEqual(run(loop, "disable server be/s1", level: .user), "Permission denied\n")
        XCTAssertEqual(run(loop, "set server be/s1 state drain", level: .operator), "Permission denied\n")
        XCTAssertEqual(run(loop, "show sess", level: .user), "Permission denied\n")
        XCTAssertFalse(try server(loop, "be", "s1").isInMaintenance)
        XCTAssertEqual(
            run(loop, "show cli level;operator;show cli level;user;show cli level"),
            "admin\n||operator\n||user\n"
        )
        XCTAssertEqual(run(loop, "user;operator;show cli level"), "|Permission denied\n|user\n", "never raised")
    }

    func testServerLookupErrors() throws {
        let loop = try makeLoop()
        XCTAssertEqual(run(loop, "disable server be"), "Require 'backend/server'.\n")
        XCTAssertEqual(run(loop, "disable server"), "Require 'backend/server'.\n")
        XCTAssertEqual(run(loop, "disable server nope/s1"), "No such backend.\n")
        XCTAssertEqual(run(loop, "disable server be/nope"), "No such server.\n")
    }

    func testStateChanges_maintDrainReady() throws {
        let loop = try makeLoop()
        let s1 = try server(loop, "be", "s1")
        XCTAssertEqual(run(loop, "set server be/s1 state drain"), "")
        XCTAssertTrue(s1.isDraining)
        XCTAssertFalse(s1.isUsable)
        XCTAssertEqual(s1.statusText, "DRAIN")
        XCTAssertEqual(run(loop, "set server be/s1 state maint"), "")
        XCTAssertTrue(s1.isInMaintenance)
        XCTAssertFalse(s1.isDraining)
        XCTAssertEqual(s1.adminStateBits, 1)
        XCTAssertEqual(run(loop, "set server be/s1 state ready"), "")
        XCTAssertTrue(s1.isUsable)
        XCTAssertEqual(run(loop, "disable server be/s1"), "")
        XCTAssertEqual(s1.statusText, "MAINT")
        XCTAssertEqual(run(loop, "enable server be/s1"), "")
        XCTAssertEqual(s1.statusText, "no check")
        XCTAssertEqual(
            run(loop, "set server be/s1 state foo"),
            "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n"
        )
        XCTAssertTrue(run(loop, "set server be/s1 bogus").hasPrefix("usage: set server <backend>/<server> addr"))
    }

    func testDrainedServer_getsNoNewSessions() throws {
        let loop = try makeLoop()
        let b = try XCTUnwrap(loop.runtime.backends.first { $0.name == "be" })
        _ = run(loop, "set server be/s1 state drain")
        for _ in 0..<10 {
            guard case .server(let s) = b.balancer.pick(b.servers, client: .none) else { return XCTFail("no pick") }
            XCTAssertEqual(s.name, "s2")
        }
    }

    func testWeight_setGetAndStatic() throws {
        let loop = try makeLoop()
        XCTAssertEqual(run(loop, "get weight be/s1"), "3 (initial 3)\n")
        XCTAssertEqual(run(loop, "set server be/s1 weight 7"), "")
        XCTAssertEqual(run(loop, "get weight be/s1"), "7 (initial 3)\n")
        XCTAssertEqual(run(loop, "set weight be/s1 200%"), "")
        XCTAssertEqual(run(loop, "get weight be/s1"), "6 (initial 3)\n")
        XCTAssertEqual(run(loop, "set server be/s1 weight"), "Require <weight> or <weight%>.\n")
        XCTAssertEqual(
            run(loop, "set server static/a weight 3"),
            "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n"
        )
        XCTAssertEqual(run(loop, "set server static/a weight 0%"), "")
        XCTAssertEqual(try server(loop, "static", "a").weight, 0)
    }

    func testMaxconn() throws {
        let loop = try makeLoop()
        XCTAssertEqual(run(loop, "set maxconn server be/s2"), "Require <maxconn>.\n")
        XCTAssertEqual(run(loop, "set maxconn server be/s2 abc"), "maxconn string empty or preceded by garbage")
        XCTAssertEqual(run(loop, "set maxconn server be/s2 12"), "")
        XCTAssertEqual(try server(loop, "be", "s2").maxConnections, 12)
    }

    func testShowServersState_haproxyFormat() throws {
        let loop = try makeLoop()
        _ = run(loop, "set server be/s1 state drain")
        let lines = run(loop, "show servers state be").split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(lines[0], "1")
        XCTAssertTrue(lines[1].hasPrefix("# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state "))
        let s1 = lines[2].split(separator: " ").map(String.init)
        XCTAssertEqual(s1.count, 25)
        XCTAssertEqual(Array(s1[0...8]), ["3", "be", "1", "s1", "127.0.0.1", "2", "8", "3", "3"])
        XCTAssertEqual(s1[18], "9001")
        XCTAssertEqual(run(loop, "show servers state nope"), "Can't find backend.\n")
    }

    func testShowStat_rowsAndLevelHidesAddresses() throws {
        let loop = try makeLoop()
        let csv = run(loop, "show stat")
        let lines = csv.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, StatsTests.haproxyHeader)
        XCTAssertEqual(
            lines.dropFirst().map { $0.split(separator: ",").prefix(2).joined(separator: ",") },
            ["fe,FRONTEND", "be,s1", "be,s2", "be,BACKEND", "static,a", "static,BACKEND"]
        )
        let addr = StatsCSV.index(of: "addr")
        let s1 = lines[2].split(separator: ",", omittingEmptySubsequences: false)
        XCTAssertEqual(s1[addr], "127.0.0.1:9001")
        // iid: GLOBAL (the CLI) takes 1 when a stats socket exists, as in HAProxy.
        XCTAssertEqual(s1[StatsCSV.index(of: "iid")], "3")
        let asUser = run(loop, "show stat", level: .user).split(separator: "\n").map(String.init)
        XCTAssertEqual(asUser[2].split(separator: ",", omittingEmptySubsequences: false)[addr], "")
        let filtered = run(loop, "show stat be 4 -1").split(separator: "\n")
        XCTAssertEqual(filtered.count, 3)
    }

    func testShowInfo_nameValueLines() throws {
        let loop = try makeLoop()
        let info = run(loop, "show info")
        XCTAssertTrue(info.hasPrefix("Name: sluice\nVersion: "))
        for field in ["Pid: ", "Uptime_sec: ", "Maxconn: 100", "CurrConns: 0", "CumConns: ", "CumReq: 0"] {
            XCTAssertTrue(info.contains("\n" + field), "missing \(field) in \(info)")
        }
    }

    func testUnknownCommandAndHelp() throws {
        let loop = try makeLoop()
        XCTAssertTrue(run(loop, "").hasPrefix("Unknown command. Please enter one of the following commands only :\n"))
        let maybe = run(loop, "show foo")
        XCTAssertTrue(maybe.hasPrefix("Unknown command, but maybe one of the following ones is a better match:\n"))
        XCTAssertTrue(maybe.contains("  show stat "))
        XCTAssertTrue(maybe.hasSuffix("  quit                                    : disconnect\n"))
        let help = run(loop, "help")
        XCTAssertTrue(help.hasPrefix("The following commands are valid at this level:\n"))
        XCTAssertTrue(help.contains("\n  show servers state [<backend>]          : dump volatile server information"))
        var ctx = AdminContext(level: .admin)
        XCTAssertEqual(loop.runAdminCommand(["prompt"], &ctx), "")
        XCTAssertTrue(ctx.isInteractive)
        XCTAssertEqual(loop.runAdminCommand(["quit"], &ctx), "")
        XCTAssertTrue(ctx.wantsClose)
    }
}
