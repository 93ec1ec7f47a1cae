// SPDX-License-Identifier: Apache-2.0
// Sample expressions in the model: a fetch followed by converters (`req.hdr(host),lower`), as used by ACL tests,
// log-format strings (`%[src]`) and `server ... sni <expr>`, and where each fetch can be evaluated. Values only;
// which fetches exist and what they mean is decided by ACLParser.supportedFetches.

/// A converter applied to a sample (`,lower`). Only these two are supported; every other converter HAProxy knows is
/// refused at load.
public enum SampleConverter: String, Sendable, Equatable {
    case lower
    case upper
}

/// A fetch and the converters applied to its result, in order: `req.hdr(host),lower`.
public struct SampleExpression: Sendable, Equatable {
    public var fetch: SampleFetch
    public var converters: [SampleConverter]

    public init(fetch: SampleFetch, converters: [SampleConverter] = []) {
        self.fetch = fetch
        self.converters = converters
    }
}

/// Where the data a fetch reads comes from, which decides where it can be used (HAProxy's SMP_USE_* groups).
public enum FetchSource: Sendable, Equatable {
    /// Needs nothing: `always_true`, `always_false`, `str(...)`.
    case constant
    /// The accepted connection's addresses (L4): `src`, `src_port`, `dst`, `dst_port`.
    case connection
    /// The client-side TLS session (L5): `ssl_fc`, `ssl_fc_sni`, `ssl_fc_protocol`, `ssl_fc_alpn`, `ssl_fc_has_sni`,
    /// `ssl_c_used`, `ssl_c_verify`. False/empty on a plain connection.
    case tls
    /// The raw bytes of the request buffer (L6), for `tcp-request content` inspection in mode tcp: `req.ssl_sni`,
    /// `req.ssl_hello_type`, `req.len`, and `wait_end` (true once `tcp-request inspect-delay` expired). In a mode
    /// http proxy they never match (HAProxy's "L6 sample fetches ignored on HTTP proxies"; the load warns), except
    /// `wait_end`.
    case content
    /// The HTTP request (needs `mode http`): `path`, `url`, `base`, `query`, `url_param`, `method`, `req.ver`,
    /// `req.proto_http`, `req.hdr`, `req.hdr_cnt`, `req.hdr_val`.
    case httpRequest
    /// The HTTP response (needs `mode http`, only in `http-response` rules): `status`, `res.hdr`, `res.hdr_cnt`,
    /// `res.hdr_val`.
    case httpResponse
    /// The message being processed (needs `mode http`): the request in request rules and `use_backend`, the response
    /// in `http-response` rules: `hdr`, `hdr_cnt`, `hdr_val`.
    case httpMessage

    /// True for the sources that only exist in `mode http`.
    public var needsHTTP: Bool {
        switch self {
        case .httpRequest, .httpResponse, .httpMessage: return true
        case .constant, .connection, .tls, .content: return false
        }
    }
}

extension SampleFetch {
    /// Where this fetch reads from; nil for a name the parser does not produce (a fetch built by hand).
    public var source: FetchSource? {
        ACLParser.supportedFetches[name]?.source
    }
}
