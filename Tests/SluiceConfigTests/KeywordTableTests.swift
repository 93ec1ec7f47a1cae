// SPDX-License-Identifier: Apache-2.0
// The HAProxy keyword tables and suggestions: every keyword sluice supports is one HAProxy knows, and distances.

import XCTest

@testable import SluiceConfig

final class KeywordTableTests: XCTestCase {
    func testSupportedGlobalKeywords_areHAProxyKeywords() {
        for keyword in GlobalSection.keywords.keys {
            XCTAssertTrue(HAProxyKeywords.global.contains(keyword), keyword)
        }
    }

    func testSupportedProxyKeywords_areHAProxyKeywords() {
        for keyword in ProxySection.keywords.keys {
            XCTAssertTrue(HAProxyKeywords.proxy.contains(keyword), keyword)
        }
        for option in ProxyRules.options.keys { XCTAssertTrue(HAProxyKeywords.options.contains(option), option) }
        for timeout in ProxyRules.timeouts.keys { XCTAssertTrue(HAProxyKeywords.timeouts.contains(timeout), timeout) }
    }

    func testSupportedBindAndServerOptions_areHAProxyOptions() {
        for option in BindParser.supportedOptions.keys {
            XCTAssertEqual(HAProxyKeywords.bindOptions[option], BindParser.supportedOptions[option], option)
        }
        for option in ServerParser.supportedOptions.keys {
            XCTAssertEqual(HAProxyKeywords.serverOptions[option], ServerParser.supportedOptions[option], option)
        }
    }

    func testSupportedFetches_areHAProxyFetches() {
        for fetch in ACLParser.supportedFetches.keys {
            XCTAssertTrue(HAProxyKeywords.sampleFetches.contains(fetch), fetch)
        }
    }

    func testSupportedActionsAndDerivedKeywords_areHAProxyKeywords() {
        for action in HTTPRules.requestActions {
            XCTAssertTrue(HAProxyKeywords.httpRequestActions.contains(action), action)
        }
        for action in HTTPRules.responseActions {
            XCTAssertTrue(HAProxyKeywords.httpResponseActions.contains(action), action)
        }
        for keyword in ACLParser.derivedKeywords.keys {
            XCTAssertTrue(HAProxyKeywords.aclKeywords.contains(keyword), keyword)
        }
        for (alias, fetch) in ACLParser.fetchAliases {
            XCTAssertTrue(
                HAProxyKeywords.sampleFetches.contains(alias) || HAProxyKeywords.aclKeywords.contains(alias),
                alias
            )
            XCTAssertNotNil(ACLParser.supportedFetches[fetch], fetch)
        }
        for variable in ["ci", "cp", "fi", "fp", "f", "b", "H", "pid", "HM", "HP", "HQ", "HU", "HV"] {
            XCTAssertTrue(LogFormatParser.knownVariables.contains(variable), variable)
        }
    }

    func testTables_containWellKnownKeywords() {
        XCTAssertTrue(HAProxyKeywords.global.contains("ssl-default-bind-ciphers"))
        XCTAssertTrue(HAProxyKeywords.global.contains("lua-load"))
        XCTAssertTrue(HAProxyKeywords.proxy.contains("stick-table"))
        XCTAssertTrue(HAProxyKeywords.proxy.contains("http-request"))
        XCTAssertEqual(HAProxyKeywords.bindOptions["crt"], 1)
        XCTAssertEqual(HAProxyKeywords.bindOptions["ssl"], 0)
        XCTAssertEqual(HAProxyKeywords.serverOptions["check"], 0)
        XCTAssertEqual(HAProxyKeywords.serverOptions["inter"], 1)
        XCTAssertTrue(HAProxyKeywords.aclKeywords.contains("path_beg"))
        XCTAssertTrue(HAProxyKeywords.converters.contains("lower"))
    }

    func testDistance_countsTranspositionAsOne() {
        XCTAssertEqual(KeywordSuggestion.distance(Array("wieght".utf8), Array("weight".utf8)), 1)
        XCTAssertEqual(KeywordSuggestion.distance(Array("".utf8), Array("abc".utf8)), 3)
        XCTAssertEqual(KeywordSuggestion.distance(Array("kitten".utf8), Array("sitting".utf8)), 3)
    }

    func testClosest_respectsLimitAndOrder() {
        XCTAssertEqual(
            KeywordSuggestion.closest(to: "defalt_backend", among: ["default-server", "default_backend"]),
            "default_backend"
        )
        XCTAssertNil(KeywordSuggestion.closest(to: "rise", among: ["retries", "server"]))
        XCTAssertEqual(KeywordSuggestion.closest(to: "mod", among: ["mode", "mod2"]), "mode")
    }
}
