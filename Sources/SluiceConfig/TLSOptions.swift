// SPDX-License-Identifier: Apache-2.0
// TLSOptions: what bind lines, server lines and the global `ssl-default-*-options` share: protocol versions
// (`ssl-min-ver`, `ssl-max-ver`, `no-sslv3`, `no-tlsv1x`, `force-tlsv1x`), ALPN lists, and path prefixes
// (`crt-base`, `ca-base`). Pure helpers; the callers own the messages' subjects.

/// Shared TLS option parsing.
enum TLSOptions {
    /// `no-<version>` options and the version each disables.
    static let disablingOptions: [String: TLSVersion] = [
        "no-sslv3": .sslv3, "no-tlsv10": .tls1_0, "no-tlsv11": .tls1_1, "no-tlsv12": .tls1_2, "no-tlsv13": .tls1_3,
    ]

    /// `force-<version>` options and the only version each leaves enabled.
    static let forcingOptions: [String: TLSVersion] = [
        "force-sslv3": .sslv3, "force-tlsv10": .tls1_0, "force-tlsv11": .tls1_1, "force-tlsv12": .tls1_2,
        "force-tlsv13": .tls1_3,
    ]

    /// The version list for messages: "SSLv3, TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3".
    static let versionNames =
        TLSVersion.allCases.dropLast().map(\.name).joined(separator: ", ") + " or " + TLSVersion.tls1_3.name

    /// Applies a version option (`ssl-min-ver X`, `ssl-max-ver X`, `no-*`, `force-*`) at `words[index]` to
    /// `options`. Returns how many words it used (0: not a version option), or nil after an alert
    /// ("<subject> : 'ssl-min-ver' expects ...").
    static func applyVersionOption(
        _ words: [String],
        at index: Int,
        to options: inout TLSVersionOptions,
        subject: String,
        _ line: ConfigLine,
        context: inout ParseContext
    ) -> Int? {
        let option = words[index]
        if let version = disablingOptions[option] {
            options.disabled.insert(version)
            return 1
        }
        if let version = forcingOptions[option] {
            options.minimum = version
            options.maximum = version
            return 1
        }
        guard option == "ssl-min-ver" || option == "ssl-max-ver" else { return 0 }
        guard index + 1 < words.count, let version = TLSVersion(name: words[index + 1]) else {
            let got = index + 1 < words.count ? ", got '\(words[index + 1])'" : ""
            context.alert("\(subject) : '\(option)' expects \(versionNames)\(got)", line)
            return nil
        }
        if option == "ssl-min-ver" { options.minimum = version } else { options.maximum = version }
        return 2
    }

    /// `h2,http/1.1` as a list; nil when an entry is empty or longer than 255 bytes (ALPN's limit).
    static func alpnList(_ text: String) -> [String]? {
        let list = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard list.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 255 }) else { return nil }
        return list
    }

    /// `path` with `base` prepended when `path` is relative (HAProxy's crt-base/ca-base rule).
    static func path(_ path: String, base: String?) -> String {
        guard let base, !base.isEmpty, !path.hasPrefix("/") else { return path }
        return base.hasSuffix("/") ? base + path : base + "/" + path
    }

    /// `ssl-default-bind-options` / `ssl-default-server-options`: version options, `no-tls-tickets`, and (bind side)
    /// `prefer-client-ciphers`. Other bind/server options HAProxy accepts there are refused one by one.
    static func parseDefaultOptions(
        _ line: ConfigLine,
        isBindSide: Bool,
        into defaults: inout TLSDefaults,
        context: inout ParseContext
    ) {
        let words = line.words
        let keyword = words[0]
        guard words.count >= 2 else {
            context.alert("'\(keyword)' expects at least one option", line)
            return
        }
        var result = defaults
        var versions = defaults.versionOptions
        var failed = false
        var index = 1
        while index < words.count {
            let option = words[index]
            guard
                let used = applyVersionOption(
                    words,
                    at: index,
                    to: &versions,
                    subject: "'\(keyword)'",
                    line,
                    context: &context
                )
            else { return }
            if used > 0 {
                index += used
                continue
            }
            switch option {
            case "no-tls-tickets":
                result.disablesTickets = true
            case "prefer-client-ciphers" where isBindSide:
                result.prefersClientCiphers = true
            default:
                let table = isBindSide ? HAProxyKeywords.bindOptions : HAProxyKeywords.serverOptions
                if let arity = table[option] {
                    context.alert("'\(keyword)' option '\(option)' is not supported by sluice", line)
                    failed = true
                    index += arity
                } else {
                    context.alert("'\(keyword)' : unknown option '\(option)'", line)
                    return
                }
            }
            index += 1
        }
        guard !failed else { return }
        result.minVersion = versions.minimum
        result.maxVersion = versions.maximum
        result.disabledVersions = versions.disabled
        defaults = result
    }
}
