// SPDX-License-Identifier: Apache-2.0
// UnsupportedFeatureCheck: features the parser puts in the model but the proxy cannot run yet (`mode http` for
// now). Kept out of parsing so the model stays complete; the proxy layer (and `sluice -c`) calls this hook and
// treats its alerts like the loader's. Remove a check here when the runtime gains the feature.

extension ConfigLoader {
    /// Alerts for every use of a feature the runtime does not implement yet, pointing at the section that uses it.
    /// Today: proxies in `mode http`. Returns an empty array when the configuration can run as is.
    public static func unsupportedFeatureCheck(_ configuration: Configuration) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        for proxy in configuration.proxies where proxy.mode == .http {
            let kind =
                proxy.capabilities == .listen
                ? "listen" : (proxy.capabilities.contains(.frontend) ? "frontend" : "backend")
            diagnostics.append(
                Diagnostic(
                    severity: .alert,
                    location: proxy.location,
                    message: "'mode http' is not supported by sluice yet (\(kind) '\(proxy.name)')"
                )
            )
        }
        return diagnostics
    }
}
