// SPDX-License-Identifier: Apache-2.0
// ForwardFor: `option forwardfor [except <network>] [header <name>] [if-none]`, compiled: the header that carries
// the client's address to the server, unless the client is in the excepted network.
import SluiceCore

/// The X-Forwarded-For setting of a proxy.
struct ForwardFor {
    /// Header name bytes (default `x-forwarded-for`).
    let headerName: [UInt8]
    let except: IPNetwork?
    /// `if-none`: only add the header when the request has none.
    let ifNone: Bool

    init(headerName: String = "x-forwarded-for", except: IPNetwork? = nil, ifNone: Bool = false) {
        self.headerName = Array(headerName.utf8)
        self.except = except
        self.ifNone = ifNone
    }

    /// True when no header is added for this client.
    func excepts(_ client: IPEndpoint) -> Bool {
        except?.contains(client) ?? false
    }
}
