// SPDX-License-Identifier: Apache-2.0
// ForwardFor: `option forwardfor [except <network>] [header <name>] [if-none]`, compiled: the header that carries
// the client's address to the server, unless the client is in the excepted network. Also the runtime meaning of
// the config's connection-mode and reuse enums.
import SluiceConfig
import SluiceCore

/// The X-Forwarded-For setting of a proxy, compiled.
struct CompiledForwardFor {
    /// Header name bytes as configured.
    let headerName: [UInt8]
    let except: IPNetwork?
    /// `if-none`: only add the header when the request has none.
    let onlyIfNone: Bool

    init(_ config: ForwardFor) {
        headerName = Array(config.headerName.utf8)
        except = config.exceptNetwork.flatMap(IPNetwork.init)
        onlyIfNone = config.onlyIfNone
    }

    /// True when no header is added for this client.
    func excepts(_ client: IPEndpoint) -> Bool {
        except?.contains(client) ?? false
    }
}

extension HTTPConnectionMode {
    /// How restrictive the mode is (keep-alive < server-close < close).
    var strictness: Int {
        switch self {
        case .keepAlive: return 0
        case .serverClose: return 1
        case .close: return 2
        }
    }

    /// HAProxy's rule: the frontend's and the backend's option combine to the more restrictive one.
    static func effective(_ frontend: HTTPConnectionMode, _ backend: HTTPConnectionMode) -> HTTPConnectionMode {
        frontend.strictness >= backend.strictness ? frontend : backend
    }
}
