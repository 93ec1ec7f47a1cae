// SPDX-License-Identifier: Apache-2.0
// TLS: `bind ... ssl` options, server-side TLS options, the global `ssl-default-*`, `crt-base`/`ca-base`,
// `ssl-server-verify` and `tune.ssl.cachesize`, and the checks HAProxy makes after parsing (a certificate, a CA
// file for verification, at least one protocol version). Files come from testEnvironment's fixed file table.

import Foundation
import SluiceConfig
import XCTest

final class TLSTests: XCTestCase {
    /// The TLS settings of the last bind line of `fe` (lines from 11).
    private func bindTLS(_ lines: String..., file: StaticString = #filePath, line: UInt = #line) -> BindTLS? {
        let config = assertValid(inHTTPFrontend(lines.joined(separator: "\n")), file: file, line: line)
        return config?.frontends.first?.binds.last?.tls
    }

    /// A configuration with `global` lines first, then a mode http frontend whose lines follow, then backend `be`.
    private func withGlobal(_ global: [String], frontend: [String] = [], backend: [String] = []) -> String {
        "global\n" + global.map { "  " + $0 + "\n" }.joined() + httpDefaults + "frontend fe\n  bind :80\n"
            + frontend.map { "  " + $0 + "\n" }.joined() + "  default_backend be\nbackend be\n"
            + (backend.isEmpty ? ["server s1 127.0.0.1:9000"] : backend).map { "  " + $0 + "\n" }.joined()
    }

    // MARK: - bind

    func testBind_ssl_defaults() {
        let tls = bindTLS("bind :443 ssl crt /etc/ssl/site.pem")
        XCTAssertEqual(tls?.certificates, [CertificateSource(path: "/etc/ssl/site.pem", isDirectory: false)])
        XCTAssertEqual(tls?.alpn, [])
        XCTAssertEqual(tls?.minVersion, .tls1_2)
        XCTAssertEqual(tls?.maxVersion, .tls1_3)
        XCTAssertNil(tls?.ciphers)
        XCTAssertNil(tls?.cipherSuites)
        XCTAssertNil(tls?.curves)
        XCTAssertNil(tls?.caFile)
        XCTAssertEqual(tls?.verify, ClientCertificateVerify.none)
        XCTAssertEqual(tls?.usesTickets, true)
        XCTAssertEqual(tls?.prefersClientCiphers, false)
    }

    func testBind_plain_hasNoTLS() {
        XCTAssertNil(assertValid(inHTTPFrontend())?.frontends.first?.binds.first?.tls)
    }

    func testBind_everyOption_isParsed() {
        let tls = bindTLS(
            "bind :443 ssl crt /etc/ssl/site.pem crt /etc/ssl/sites alpn spdy/3,http/1.1 ssl-min-ver TLSv1.3"
                + " ciphers ECDHE+AESGCM ciphersuites TLS_AES_128_GCM_SHA256 curves X25519:P-256"
                + " ca-file /etc/ssl/ca.pem verify optional no-tls-tickets prefer-client-ciphers"
        )
        XCTAssertEqual(
            tls?.certificates,
            [
                CertificateSource(path: "/etc/ssl/site.pem", isDirectory: false),
                CertificateSource(path: "/etc/ssl/sites", isDirectory: true),
            ]
        )
        XCTAssertEqual(tls?.alpn, ["spdy/3", "http/1.1"])
        XCTAssertEqual(tls?.minVersion, .tls1_3)
        XCTAssertEqual(tls?.maxVersion, .tls1_3)
        XCTAssertEqual(tls?.ciphers, "ECDHE+AESGCM")
        XCTAssertEqual(tls?.cipherSuites, "TLS_AES_128_GCM_SHA256")
        XCTAssertEqual(tls?.curves, "X25519:P-256")
        XCTAssertEqual(tls?.caFile, "/etc/ssl/ca.pem")
        XCTAssertEqual(tls?.verify, .optional)
        XCTAssertEqual(tls?.usesTickets, false)
        XCTAssertEqual(tls?.prefersClientCiphers, true)
    }

    func testBind_versionOptions_foldIntoARange() {
        XCTAssertEqual(bindTLS("bind :443 ssl crt /etc/ssl/site.pem no-tlsv13")?.maxVersion, .tls1_2)
        let legacy = bindTLS("bind :443 ssl crt /etc/ssl/site.pem ssl-min-ver TLSv1.0 no-tlsv10 no-sslv3")
        XCTAssertEqual(legacy?.minVersion, .tls1_1)
        // no-sslv3 / no-tlsv10 / no-tlsv11 never lower sluice's TLSv1.2 default.
        XCTAssertEqual(bindTLS("bind :443 ssl crt /etc/ssl/site.pem no-sslv3 no-tlsv10 no-tlsv11")?.minVersion, .tls1_2)
        let forced = bindTLS("bind :443 ssl crt /etc/ssl/site.pem force-tlsv12")
        XCTAssertEqual(forced.map { [$0.minVersion, $0.maxVersion] }, [.tls1_2, .tls1_2])
        XCTAssertEqual(bindTLS("bind :443 ssl crt /etc/ssl/site.pem ssl-max-ver TLSv1.2")?.maxVersion, .tls1_2)
    }

    func testBind_ipv6Only() {
        let binds = assertValid(inHTTPFrontend("bind :::81 v4v6", "bind :::82 v6only"))?.frontends.first?.binds
        XCTAssertEqual(binds?.map(\.ipv6Only), [nil, false, true])
    }

    func testBind_acceptProxyWithSSL() {
        let bind = assertValid(inHTTPFrontend("bind 127.0.0.1:8443 ssl crt /etc/ssl/site.pem accept-proxy"))?
            .frontends.first?.binds.last
        XCTAssertEqual(bind?.acceptProxy, true)
        XCTAssertNotNil(bind?.tls)
    }

    func testBind_errors_areAlerts() {
        assertDiagnostics(
            inHTTPFrontend(
                "bind :443 ssl",
                "bind :444 ssl crt /nope.pem",
                "bind :445 ssl crt /etc/ssl/site.pem verify required",
                "bind :446 ssl crt /etc/ssl/site.pem ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.2",
                "bind :447 ssl crt /etc/ssl/site.pem ssl-min-ver TLS1.2",
                "bind :448 ssl crt /etc/ssl/site.pem verify maybe",
                "bind :449 ssl crt /etc/ssl/site.pem alpn h2,,http/1.1",
                "bind :450 ssl crt /etc/ssl/site.pem ca-file /etc/ssl/certs",
                "bind :451 ssl crt /etc/ssl/site.pem ca-file /nope.pem verify required"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : 'bind :443' : no SSL certificate specified (use 'crt')",
                "[ALERT] parsing [t.cfg:12] : 'bind :444' : 'crt' : cannot use '/nope.pem' (No such file or directory)",
                "[ALERT] parsing [t.cfg:13] : 'bind :445' : 'verify required' needs a 'ca-file'",
                "[ALERT] parsing [t.cfg:14] : 'bind :446' : all SSL/TLS versions are disabled",
                "[ALERT] parsing [t.cfg:15] : 'bind :447' : 'ssl-min-ver' expects SSLv3, TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3, got 'TLS1.2'",
                "[ALERT] parsing [t.cfg:16] : 'bind :448' : 'verify' expects 'none', 'optional' or 'required', got 'maybe'",
                "[ALERT] parsing [t.cfg:17] : 'bind :449' : 'alpn' expects a comma-separated list of protocols, got 'h2,,http/1.1'",
                "[ALERT] parsing [t.cfg:18] : 'bind :450' : 'ca-file' : cannot use '/etc/ssl/certs' (Is a directory)",
                "[ALERT] parsing [t.cfg:19] : 'bind :451' : 'ca-file' : cannot use '/nope.pem' (No such file or directory)",
            ]
        )
    }

    func testBind_tlsOptionsWithoutSSL_isWarning() {
        let result = parse(inHTTPFrontend("bind :443 crt /etc/ssl/site.pem alpn h2"))
        XCTAssertEqual(
            result.diagnostics.map(\.rendered),
            ["[WARNING] parsing [t.cfg:11] : 'bind :443' : TLS options ('crt', 'alpn') are ignored without 'ssl'"]
        )
        XCTAssertNil(result.configuration?.frontends.first?.binds.last?.tls)
    }

    // MARK: - global defaults and bases

    func testGlobal_bindDefaults_applyToLaterBindLines() {
        let config = assertValid(
            withGlobal(
                [
                    "crt-base /etc/ssl/private", "ca-base /etc/ssl/certs",
                    "ssl-default-bind-options ssl-min-ver TLSv1.3 no-tls-tickets prefer-client-ciphers",
                    "ssl-default-bind-ciphers ECDHE+AESGCM", "ssl-default-bind-ciphersuites TLS_AES_256_GCM_SHA384",
                    "ssl-default-bind-curves X25519", "tune.ssl.cachesize 0",
                ],
                frontend: [
                    "bind :443 ssl crt site.pem ca-file ca.pem verify required",
                    "bind :444 ssl crt /etc/ssl/site.pem ciphers HIGH ssl-min-ver TLSv1.2",
                ]
            )
        )
        let binds = config?.frontends.first?.binds ?? []
        XCTAssertEqual(binds.count, 3)
        let first = binds.count == 3 ? binds[1].tls : nil
        XCTAssertEqual(first?.certificates, [CertificateSource(path: "/etc/ssl/private/site.pem", isDirectory: false)])
        XCTAssertEqual(first?.caFile, "/etc/ssl/certs/ca.pem")
        XCTAssertEqual(first?.minVersion, .tls1_3)
        XCTAssertEqual(first?.ciphers, "ECDHE+AESGCM")
        XCTAssertEqual(first?.cipherSuites, "TLS_AES_256_GCM_SHA384")
        XCTAssertEqual(first?.curves, "X25519")
        XCTAssertEqual(first?.usesTickets, false)
        XCTAssertEqual(first?.prefersClientCiphers, true)
        let second = binds.count == 3 ? binds[2].tls : nil
        XCTAssertEqual(second?.ciphers, "HIGH")
        XCTAssertEqual(second?.minVersion, .tls1_2)
        let tls = config?.global.tls
        XCTAssertEqual(tls?.crtBase, "/etc/ssl/private")
        XCTAssertEqual(tls?.caBase, "/etc/ssl/certs")
        XCTAssertEqual(tls?.sessionCacheSize, 0)
        XCTAssertEqual(tls?.bindDefaults.minVersion, .tls1_3)
        XCTAssertEqual(tls?.bindDefaults.disablesTickets, true)
    }

    func testGlobal_defaults_areHAProxys() {
        let tls = assertValid(inHTTPFrontend())?.global.tls
        XCTAssertEqual(tls?.sessionCacheSize, 20000)
        XCTAssertEqual(tls?.serverVerify, .required)
        XCTAssertNil(tls?.crtBase)
        XCTAssertEqual(tls?.bindDefaults, TLSDefaults())
    }

    func testGlobal_crtBase_relativePathMissing_isAlert() {
        assertDiagnostics(
            withGlobal(["crt-base /etc/ssl/private"], frontend: ["bind :443 ssl crt other.pem"]),
            [
                "[ALERT] parsing [t.cfg:10] : 'bind :443' : 'crt' : cannot use '/etc/ssl/private/other.pem' (No such file or directory)"
            ]
        )
    }

    func testGlobal_tlsKeywordErrors_areAlerts() {
        assertDiagnostics(
            withGlobal([
                "ssl-default-bind-options no-sslv3 frobnicate", "ssl-default-bind-options strict-sni",
                "ssl-default-server-options prefer-client-ciphers", "ssl-default-bind-options ssl-min-ver",
                "ssl-server-verify maybe", "tune.ssl.cachesize -1", "ca-base /a", "ca-base /b",
                "ssl-default-bind-ciphers", "ssl-default-bind-options",
            ]),
            [
                "[ALERT] parsing [t.cfg:2] : 'ssl-default-bind-options' : unknown option 'frobnicate'",
                "[ALERT] parsing [t.cfg:3] : 'ssl-default-bind-options' option 'strict-sni' is not supported by sluice",
                "[ALERT] parsing [t.cfg:4] : 'ssl-default-server-options' : unknown option 'prefer-client-ciphers'",
                "[ALERT] parsing [t.cfg:5] : 'ssl-default-bind-options' : 'ssl-min-ver' expects SSLv3, TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3",
                "[ALERT] parsing [t.cfg:6] : 'ssl-server-verify' expects 'none' or 'required', got 'maybe'",
                "[ALERT] parsing [t.cfg:7] : 'tune.ssl.cachesize' expects an integer from 0 to 2147483647, got '-1'",
                "[ALERT] parsing [t.cfg:9] : 'ca-base' already specified at t.cfg:8",
                "[ALERT] parsing [t.cfg:10] : 'ssl-default-bind-ciphers' expects a cipher list",
                "[ALERT] parsing [t.cfg:11] : 'ssl-default-bind-options' expects at least one option",
            ]
        )
    }

    // MARK: - servers

    func testServer_tlsOptions_areParsed() {
        let config = assertValid(
            withGlobal(
                ["ssl-default-server-ciphers ECDHE+AESGCM", "ssl-default-server-options no-tls-tickets no-tlsv13"],
                backend: [
                    "server a 10.0.0.1:443 ssl verify required ca-file /etc/ssl/ca.pem sni req.hdr(host) alpn http/1.1"
                        + " crt /etc/ssl/client.pem no-ssl-reuse",
                    "server b 10.0.0.2:443 ssl verify none sni str(www.example.com) ciphers HIGH ssl-min-ver TLSv1.1",
                ]
            )
        )
        let servers = config?.backend(named: "be")?.servers ?? []
        XCTAssertEqual(servers.count, 2)
        guard servers.count == 2 else { return }
        let a = servers[0].options
        XCTAssertEqual(a.usesTLS, true)
        XCTAssertEqual(a.tls.verify, .required)
        XCTAssertEqual(a.tls.caFile, "/etc/ssl/ca.pem")
        XCTAssertEqual(a.tls.sni, SampleExpression(fetch: SampleFetch(name: "req.hdr", argument: "host")))
        XCTAssertEqual(a.tls.alpn, ["http/1.1"])
        XCTAssertEqual(a.tls.clientCertificate, "/etc/ssl/client.pem")
        XCTAssertEqual(a.tls.reusesSessions, false)
        XCTAssertEqual(a.tls.usesTickets, false)
        XCTAssertEqual(a.tls.ciphers, "ECDHE+AESGCM")
        XCTAssertEqual(a.tls.minVersion, .tls1_2)
        XCTAssertEqual(a.tls.maxVersion, .tls1_2)
        let b = servers[1].options
        XCTAssertEqual(b.tls.verify, ServerCertificateVerify.none)
        XCTAssertEqual(b.tls.sni, SampleExpression(fetch: SampleFetch(name: "str", argument: "www.example.com")))
        XCTAssertEqual(b.tls.ciphers, "HIGH")
        // The line's bound and the defaults' disabled versions add up, as in HAProxy.
        XCTAssertEqual(b.tls.minVersion, .tls1_1)
        XCTAssertEqual(b.tls.maxVersion, .tls1_2)
    }

    func testServer_plain_hasTLSOff() {
        let options = assertValid(inHTTPBackend())?.backend(named: "be")?.servers.first?.options
        XCTAssertEqual(options?.usesTLS, false)
        XCTAssertEqual(options?.tls.verify, .required)
        XCTAssertNil(options?.proxyProtocol)
    }

    func testServer_verifyByDefault_withoutCAFile_isAlert() {
        assertDiagnostics(
            inHTTPBackend("server s2 10.0.0.2:443 ssl", "server s3 10.0.0.3:443 check check-ssl verify required"),
            [
                "[ALERT] parsing [t.cfg:11] : 'server be/s2' : verify is enabled but no CA file specified; set 'ca-file', or 'verify none' on the 'server' line, or 'ssl-server-verify none' in the global section",
                "[ALERT] parsing [t.cfg:12] : 'server be/s3' : verify is enabled but no CA file specified; set 'ca-file', or 'verify none' on the 'server' line, or 'ssl-server-verify none' in the global section",
            ]
        )
    }

    func testServer_sslServerVerifyNone_appliesWhereverItIs() {
        // HAProxy applies ssl-server-verify after parsing: a global section below the servers still counts.
        let text = inHTTPBackend("server s2 10.0.0.2:443 ssl") + "global\n  ssl-server-verify none\n"
        let server = assertValid(text)?.backend(named: "be")?.servers.last
        XCTAssertEqual(server?.options.tls.verify, ServerCertificateVerify.none)
    }

    func testServer_defaultServerTLS_isInherited() {
        let servers = assertValid(
            inHTTPBackend(
                "default-server ssl verify none alpn http/1.1 no-tlsv12",
                "server s2 10.0.0.2:443",
                "server s3 10.0.0.3:80 no-ssl"
            )
        )?.backend(named: "be")?.servers
        XCTAssertEqual(servers?.map(\.options.usesTLS), [false, true, false])
        XCTAssertEqual(servers?[1].options.tls.alpn, ["http/1.1"])
        XCTAssertEqual(servers?[1].options.tls.minVersion, .tls1_3)
    }

    func testServer_tlsErrors_areAlerts() {
        assertDiagnostics(
            inHTTPBackend(
                "server s2 10.0.0.2:443 ssl verify none ca-file /nope.pem crt /nope2.pem",
                "server s3 10.0.0.3:443 ssl verify optional",
                "server s4 10.0.0.4:443 ssl verify none sni hdr_beg(host)",
                "server s5 10.0.0.5:443 ssl verify none no-tlsv12 no-tlsv13",
                "server s6 10.0.0.6:443 ssl verify none alpn h2",
                "server s7 10.0.0.7:443 ssl verify none sni var(txn.host)"
            ),
            [
                "[ALERT] parsing [t.cfg:11] : 'server be/s2' : 'ca-file' : cannot use '/nope.pem' (No such file or directory)",
                "[ALERT] parsing [t.cfg:11] : 'server be/s2' : 'crt' : cannot use '/nope2.pem' (No such file or directory)",
                "[ALERT] parsing [t.cfg:12] : 'server be/s3' : 'verify' expects 'none' or 'required', got 'optional'",
                "[ALERT] parsing [t.cfg:13] : 'server be/s4' : 'sni': 'hdr_beg' is an ACL keyword, not a sample fetch (use 'hdr')",
                "[ALERT] parsing [t.cfg:14] : 'server be/s5' : all SSL/TLS versions are disabled",
                "[ALERT] parsing [t.cfg:15] : 'server be/s6' : 'alpn h2' is not supported by sluice in mode http (sluice speaks HTTP/1.1 to servers)",
                "[ALERT] parsing [t.cfg:16] : 'server be/s7' : 'sni': fetch 'var' is not supported by sluice",
            ]
        )
    }

    func testServer_alpnH2_inTCPMode_isFine() {
        let server = assertValid(inBackend("server s2 10.0.0.2:443 ssl verify none alpn h2"))?.backend(named: "be")?
            .servers.last
        XCTAssertEqual(server?.options.tls.alpn, ["h2"])
    }

    func testBind_realFiles_areCheckedThroughTheProcessEnvironment() throws {
        var environment = testEnvironment
        environment.fileKind = ConfigEnvironment.process.fileKind
        let directory = NSTemporaryDirectory() + "sluice-tls-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        XCTAssertTrue(FileManager.default.createFile(atPath: directory + "/site.pem", contents: Data("PEM".utf8)))
        let result = parse(
            inHTTPFrontend(
                "bind :443 ssl crt \(directory)/site.pem crt \(directory)",
                "bind :444 ssl crt \(directory)/missing.pem",
                "bind :445 ssl crt /dev/null"
            ),
            environment: environment
        )
        XCTAssertEqual(
            result.diagnostics.map(\.rendered),
            [
                "[ALERT] parsing [t.cfg:12] : 'bind :444' : 'crt' : cannot use '\(directory)/missing.pem' (No such file or directory)",
                "[ALERT] parsing [t.cfg:13] : 'bind :445' : 'crt' : cannot use '/dev/null' (not a regular file)",
            ]
        )
        let ok = parse(
            inHTTPFrontend("bind :443 ssl crt \(directory)/site.pem crt \(directory)"),
            environment: environment
        )
        XCTAssertEqual(
            ok.configuration?.frontends.first?.binds.last?.tls?.certificates.map(\.isDirectory),
            [false, true]
        )
    }
}

final class TLSAlpnWarningTests: XCTestCase {
    func testBindAlpnH2_inModeHTTP_isWarnedAbout() {
        let result = ConfigLoader.parse(
            text: """
                defaults
                    mode http
                    timeout connect 1s
                    timeout client 1s
                    timeout server 1s
                frontend fe
                    bind :443 ssl crt /dev/null alpn h2,http/1.1
                    default_backend be
                backend be
                    server s1 127.0.0.1:80
                """,
            fileName: "t.cfg",
            environment: ConfigEnvironment(variables: [:], files: ["/dev/null": ""])
        )
        XCTAssertTrue(
            result.diagnostics.map { $0.rendered }.contains(
                "[WARNING] parsing [t.cfg:7] : 'bind' : 'alpn h2' ignored: sluice speaks HTTP/1.1 only, so 'h2' is not offered"
            ),
            "\(result.diagnostics.map { $0.rendered })"
        )
    }
}
