// SPDX-License-Identifier: Apache-2.0
// The `global` section: each supported keyword (valid and invalid), ignored keywords, unsupported and unknown ones.

import SluiceConfig
import XCTest

final class GlobalSectionTests: XCTestCase {
    func testMaxconn_valid_isSet() {
        XCTAssertEqual(assertValid(inGlobal("maxconn 4096"))?.global.maxconn, 4096)
    }

    func testMaxconn_notAnInteger_isAlert() {
        assertDiagnostics(
            inGlobal("maxconn lots"),
            ["[ALERT] parsing [t.cfg:2] : 'maxconn' expects an integer from 1 to 2147483647, got 'lots'"]
        )
    }

    func testMaxconn_extraArgument_isAlert() {
        assertDiagnostics(
            inGlobal("maxconn 10 20"),
            ["[ALERT] parsing [t.cfg:2] : 'maxconn' cannot handle unexpected argument '20'"]
        )
    }

    func testMaxconn_missingArgument_isAlert() {
        assertDiagnostics(inGlobal("maxconn"), ["[ALERT] parsing [t.cfg:2] : 'maxconn' expects an integer argument"])
    }

    func testMaxconn_unset_isNil() {
        XCTAssertNil(assertValid(inGlobal())?.global.maxconn)
    }

    func testPidfile_valid_isSet() {
        XCTAssertEqual(assertValid(inGlobal("pidfile /run/sluice.pid"))?.global.pidfile, "/run/sluice.pid")
    }

    func testPidfile_twice_isAlert() {
        assertDiagnostics(
            inGlobal("pidfile /a", "pidfile /b"),
            ["[ALERT] parsing [t.cfg:3] : 'pidfile' already specified at t.cfg:2"]
        )
    }

    func testDaemon_valid_isSet() {
        XCTAssertEqual(assertValid(inGlobal("daemon"))?.global.daemon, true)
    }

    func testDaemon_withArgument_isAlert() {
        assertDiagnostics(
            inGlobal("daemon yes"),
            ["[ALERT] parsing [t.cfg:2] : 'daemon' cannot handle unexpected argument 'yes'"]
        )
    }

    func testUserGroup_known_setNamesAndIDs() {
        let global = assertValid(inGlobal("user haproxy", "group haproxy"))?.global
        XCTAssertEqual(global?.user, "haproxy")
        XCTAssertEqual(global?.uid, 110)
        XCTAssertEqual(global?.group, "haproxy")
        XCTAssertEqual(global?.gid, 120)
    }

    func testUser_missing_isAlert() {
        assertDiagnostics(inGlobal("user nobody42"), ["[ALERT] parsing [t.cfg:2] : cannot find user id for 'nobody42'"])
    }

    func testGroup_missing_isAlert() {
        assertDiagnostics(inGlobal("group wheel42"), ["[ALERT] parsing [t.cfg:2] : cannot find group id for 'wheel42'"])
    }

    func testUidGid_numbers_areSet() {
        let global = assertValid(inGlobal("uid 1000", "gid 1001"))?.global
        XCTAssertEqual(global?.uid, 1000)
        XCTAssertEqual(global?.gid, 1001)
    }

    func testUid_negative_isAlert() {
        assertDiagnostics(
            inGlobal("uid -1"),
            ["[ALERT] parsing [t.cfg:2] : 'uid' expects an integer from 0 to 2147483647, got '-1'"]
        )
    }

    func testGid_notANumber_isAlert() {
        assertDiagnostics(
            inGlobal("gid staff"),
            ["[ALERT] parsing [t.cfg:2] : 'gid' expects an integer from 0 to 2147483647, got 'staff'"]
        )
    }

    func testChroot_valid_isSet() {
        XCTAssertEqual(assertValid(inGlobal("chroot /var/empty"))?.global.chroot, "/var/empty")
    }

    func testChroot_missingArgument_isAlert() {
        assertDiagnostics(inGlobal("chroot"), ["[ALERT] parsing [t.cfg:2] : 'chroot' expects a directory"])
    }

    func testHardStopAfter_valid_isMilliseconds() {
        XCTAssertEqual(assertValid(inGlobal("hard-stop-after 30s"))?.global.hardStopAfterMs, 30000)
    }

    func testHardStopAfter_badUnit_isAlert() {
        assertDiagnostics(
            inGlobal("hard-stop-after 30sec"),
            [
                "[ALERT] parsing [t.cfg:2] : 'hard-stop-after': invalid time unit 'sec' in '30sec' (expected us, ms, s, m, h or d)"
            ]
        )
    }

    func testTune_valid_setsAllFour() {
        let tune = assertValid(
            inGlobal("tune.bufsize 32768", "tune.maxrewrite 2048", "tune.maxpollevents 500", "tune.maxaccept 16")
        )?
        .global.tune
        XCTAssertEqual(tune?.bufferSize, 32768)
        XCTAssertEqual(tune?.maxRewrite, 2048)
        XCTAssertEqual(tune?.maxPollEvents, 500)
        XCTAssertEqual(tune?.maxAccept, 16)
    }

    func testTune_defaults_matchHAProxy() {
        let tune = assertValid(inGlobal())?.global.tune
        XCTAssertEqual(tune, TuneSettings())
        XCTAssertEqual(tune?.bufferSize, 16384)
    }

    func testBufsize_belowMinimum_isAlert() {
        assertDiagnostics(
            inGlobal("tune.bufsize 512"),
            ["[ALERT] parsing [t.cfg:2] : 'tune.bufsize' must be at least 1024 bytes, got 512"]
        )
    }

    func testMaxrewrite_halfOfBufsize_isAlert() {
        assertDiagnostics(
            inGlobal("tune.bufsize 4096", "tune.maxrewrite 2048"),
            ["[ALERT] parsing [t.cfg:3] : 'tune.maxrewrite' (2048) must be less than half of 'tune.bufsize' (4096)"]
        )
    }

    func testMaxrewrite_checkedAgainstDefaultBufsize() {
        assertDiagnostics(
            inGlobal("tune.maxrewrite 9000"),
            ["[ALERT] parsing [t.cfg:2] : 'tune.maxrewrite' (9000) must be less than half of 'tune.bufsize' (16384)"]
        )
    }

    func testMaxpollevents_zero_isAlert() {
        assertDiagnostics(
            inGlobal("tune.maxpollevents 0"),
            ["[ALERT] parsing [t.cfg:2] : 'tune.maxpollevents' expects an integer from 1 to 1000000, got '0'"]
        )
    }

    func testMaxaccept_notANumber_isAlert() {
        assertDiagnostics(
            inGlobal("tune.maxaccept many"),
            ["[ALERT] parsing [t.cfg:2] : 'tune.maxaccept' expects an integer from 1 to 2147483647, got 'many'"]
        )
    }

    func testNbthread_one_isSilent() {
        assertValid(inGlobal("nbthread 1"))
    }

    func testNbthread_aboveOne_isWarning() {
        assertDiagnostics(
            inGlobal("nbthread 4"),
            ["[WARNING] parsing [t.cfg:2] : 'nbthread 4' ignored by sluice: sluice runs one thread"]
        )
    }

    func testNbthread_zero_isAlert() {
        assertDiagnostics(
            inGlobal("nbthread 0"),
            ["[ALERT] parsing [t.cfg:2] : 'nbthread' expects an integer from 1 to 4096, got '0'"]
        )
    }

    func testNbproc_one_isWarning() {
        assertDiagnostics(
            inGlobal("nbproc 1"),
            ["[WARNING] parsing [t.cfg:2] : 'nbproc 1' ignored by sluice: sluice runs one process"]
        )
    }

    func testNbproc_two_isAlert() {
        assertDiagnostics(
            inGlobal("nbproc 2"),
            ["[ALERT] parsing [t.cfg:2] : 'nbproc 2' is not supported by sluice: sluice runs one process"]
        )
    }

    func testIgnoredKeywords_eachIsOneWarning() {
        let keywords = [
            "cpu-map 1 0", "master-worker", "tune.ssl.default-dh-param 2048", "tune.ssl.lifetime 300",
            "tune.h2.max-concurrent-streams 100", "tune.http.maxhdr 128", "tune.idletimer 1000", "spread-checks 5",
        ]
        for keyword in keywords {
            let name = keyword.split(separator: " ")[0]
            assertDiagnostics(
                inGlobal(keyword),
                ["[WARNING] parsing [t.cfg:2] : '\(name)' ignored by sluice: it only tunes HAProxy internals"]
            )
        }
    }

    func testIgnoredPrefix_unknownKeyword_isStillUnknown() {
        assertDiagnostics(
            inGlobal("tune.h2.nonsense 1"),
            ["[ALERT] parsing [t.cfg:2] : unknown keyword 'tune.h2.nonsense' in 'global' section"]
        )
    }

    func testLog_stdoutRaw_isParsed() {
        let target = assertValid(inGlobal("log stdout format raw local0 info"))?.global.logTargets.first
        XCTAssertEqual(target?.destination, .stdout)
        XCTAssertEqual(target?.format, .raw)
        XCTAssertEqual(target?.facility, 16)
        XCTAssertEqual(target?.maxLevel, 6)
        XCTAssertEqual(target?.minLevel, 0)
        XCTAssertEqual(target?.location, SourceLocation(file: "t.cfg", line: 2))
    }

    func testLog_everyTargetForm_isParsed() {
        let targets = assertValid(
            inGlobal(
                "log stderr daemon",
                "log /dev/log local7 debug notice",
                "log unix@/run/log user",
                "log udp@10.1.2.3:5514 len 4096 format rfc5424 local1",
                "log 10.1.2.4 mail",
                "log db.internal:1514 auth",
                "log [::1]:514 kern emerg",
                "log fd@1 local0"
            )
        )?.global.logTargets
        XCTAssertEqual(
            targets?.map(\.destination),
            [
                .stderr, .unixDatagram(path: "/dev/log"), .unixDatagram(path: "/run/log"),
                .udp(.ipv4(address: 0x0A01_0203, port: 5514)), .udp(.ipv4(address: 0x0A01_0204, port: 514)),
                .udp(.ipv4(address: 0x0A00_0005, port: 1514)),
                .udp(.ipv6(address: IPv6Bytes(high: 0, low: 1), port: 514)), .stdout,
            ]
        )
        XCTAssertEqual(targets?[1].maxLevel, 7)
        XCTAssertEqual(targets?[1].minLevel, 5)
        XCTAssertEqual(targets?[3].maxLength, 4096)
        XCTAssertEqual(targets?[3].format, .rfc5424)
        XCTAssertEqual(targets?[6].maxLevel, 0)
    }

    func testLog_unknownFacility_isAlertWithSuggestion() {
        assertDiagnostics(
            inGlobal("log stdout locl0"),
            ["[ALERT] parsing [t.cfg:2] : unknown log facility 'locl0'; did you mean 'local0'?"]
        )
    }

    func testLog_unknownLevel_isAlert() {
        assertDiagnostics(
            inGlobal("log stdout local0 loud"),
            ["[ALERT] parsing [t.cfg:2] : unknown log level 'loud'"]
        )
    }

    func testLog_unknownMinLevel_isAlert() {
        assertDiagnostics(
            inGlobal("log stdout local0 info debugx"),
            ["[ALERT] parsing [t.cfg:2] : unknown optional minimum log level 'debugx'; did you mean 'debug'?"]
        )
    }

    func testLog_unsupportedFormat_isAlert() {
        assertDiagnostics(
            inGlobal("log stdout format short local0"),
            ["[ALERT] parsing [t.cfg:2] : log format 'short' is not supported by sluice"]
        )
    }

    func testLog_unknownFormat_isAlert() {
        assertDiagnostics(
            inGlobal("log stdout format json local0"),
            ["[ALERT] parsing [t.cfg:2] : unknown log format 'json' (expected rfc3164, rfc5424 or raw)"]
        )
    }

    func testLog_badLength_isAlert() {
        assertDiagnostics(
            inGlobal("log stdout len 10 local0"),
            ["[ALERT] parsing [t.cfg:2] : 'log len' expects an integer from 80 to 65535, got '10'"]
        )
    }

    func testLog_missingFacility_isAlert() {
        assertDiagnostics(
            inGlobal("log stdout format raw"),
            ["[ALERT] parsing [t.cfg:2] : 'log' expects a facility after 'raw'"]
        )
    }

    func testLog_unresolvableHost_isAlert() {
        assertDiagnostics(
            inGlobal("log rsyslog:514 local0"),
            ["[ALERT] parsing [t.cfg:2] : log: could not resolve address 'rsyslog'"]
        )
    }

    func testLog_tooManyArguments_isAlert() {
        assertDiagnostics(
            inGlobal("log stdout local0 info debug extra"),
            ["[ALERT] parsing [t.cfg:2] : 'log' cannot handle unexpected argument 'extra'"]
        )
    }

    func testLog_global_isAlertInGlobalSection() {
        assertDiagnostics(
            inGlobal("log global"),
            ["[ALERT] parsing [t.cfg:2] : 'log global' is only allowed in proxy sections, not in 'global'"]
        )
    }

    func testUnsupportedGlobalKeyword_isOneAlert() {
        assertDiagnostics(
            inGlobal("ssl-engine rdrand", "ssl-dh-param-file /x", "issuers-chain-path /x", "stats maxconn 10"),
            [
                "[ALERT] parsing [t.cfg:2] : 'ssl-engine' is not supported by sluice",
                "[ALERT] parsing [t.cfg:3] : 'ssl-dh-param-file' is not supported by sluice",
                "[ALERT] parsing [t.cfg:4] : 'issuers-chain-path' is not supported by sluice",
                "[ALERT] parsing [t.cfg:5] : 'stats maxconn' is not supported by sluice",
            ]
        )
    }

    func testNoPrefix_inGlobal_isNotSupported() {
        assertDiagnostics(
            inGlobal("no busy-polling"),
            ["[ALERT] parsing [t.cfg:2] : 'no busy-polling' is not supported by sluice"]
        )
    }

    func testUnknownGlobalKeyword_suggestsClosest() {
        assertDiagnostics(
            inGlobal("maxcon 10"),
            ["[ALERT] parsing [t.cfg:2] : unknown keyword 'maxcon' in 'global' section; did you mean 'maxconn'?"]
        )
    }

    func testProxyKeywordInGlobal_isAlert() {
        assertDiagnostics(
            inGlobal("default_backend be"),
            ["[ALERT] parsing [t.cfg:2] : 'default_backend' is not allowed in 'global' section (it is a proxy keyword)"]
        )
    }

    func testTwoGlobalSections_addUp() {
        let text = "global\n  maxconn 10\n" + inGlobal("daemon")
        let global = assertValid(text)?.global
        XCTAssertEqual(global?.maxconn, 10)
        XCTAssertEqual(global?.daemon, true)
    }

    func testGlobalHeader_withArgument_isAlert() {
        assertDiagnostics(
            "global extra\n" + inGlobal(),
            ["[ALERT] parsing [t.cfg:1] : 'global' cannot handle unexpected argument 'extra'"]
        )
    }
}
