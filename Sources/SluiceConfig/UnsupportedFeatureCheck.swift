// SPDX-License-Identifier: Apache-2.0
// UnsupportedFeatureCheck: features the parser puts in the model but the proxy cannot run yet. Kept out of parsing
// so the model stays complete; the proxy layer (and `sluice -c`) calls this hook and treats its alerts like the
// loader's. Empty today (`mode http` used to be here); add a check when the model gains something the runtime
// lags behind on, and remove it when the runtime catches up.

extension ConfigLoader {
    /// Alerts for every use of a feature the runtime does not implement yet, pointing at the line that uses it.
    /// Returns an empty array when the configuration can run as is (today: always).
    public static func unsupportedFeatureCheck(_ configuration: Configuration) -> [Diagnostic] {
        []
    }
}
