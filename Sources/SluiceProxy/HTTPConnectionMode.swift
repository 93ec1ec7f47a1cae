// SPDX-License-Identifier: Apache-2.0
// HTTPConnectionMode and HTTPReuse: what happens to connections after a response (HAProxy's option
// http-keep-alive | http-server-close | httpclose, and http-reuse), resolved from frontend and backend.

/// Connection persistence after a response. The most restrictive of frontend and backend applies.
enum HTTPConnectionMode: Int, Comparable {
    /// Both sides stay open (default).
    case keepAlive = 0
    /// The server connection closes after each response; the client one stays.
    case serverClose = 1
    /// Both close after each response.
    case close = 2

    static func < (a: HTTPConnectionMode, b: HTTPConnectionMode) -> Bool { a.rawValue < b.rawValue }

    /// HAProxy's rule: the frontend's and the backend's option combine to the more restrictive one.
    static func effective(_ frontend: HTTPConnectionMode, _ backend: HTTPConnectionMode) -> HTTPConnectionMode {
        max(frontend, backend)
    }
}

/// `http-reuse`: when an idle server connection may serve another session's request.
enum HTTPReuse {
    /// Never: a server connection serves one client session only.
    case never
    /// Safe (default): a session's first request always gets a connection of its own; later ones may reuse.
    case safe
    /// Always: any request may reuse an idle connection.
    case always
}
