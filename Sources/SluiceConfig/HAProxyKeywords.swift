// SPDX-License-Identifier: Apache-2.0
// HAProxy 2.6's keyword vocabulary, as static tables: what sluice needs to tell "known to HAProxy but not supported
// by sluice" (`'<kw>' is not supported by sluice`) from "unknown" (`unknown keyword '<kw>'`), and to suggest a
// close keyword. Data only; no parsing here. Regenerate when sluice targets a newer HAProxy.
//
// Generated once, by hand, on Debian 12 with HAProxy 2.6.12-1+deb12u4, by a throw-away script over:
//   1. `haproxy -dKall -q -c -f /dev/null`: every registered config keyword (global, listen, bind/server options,
//      option/tcp-request/... actions), sample fetch, ACL keyword and converter;
//   2. configuration.txt (`/usr/share/doc/haproxy/configuration.txt.gz`) §3 (global keyword list) and §4.1 (proxy
//      keyword matrix), because the keywords still parsed with strcmp() are not registered and -dKall omits them;
//   3. the `common_kw_list` / `common_options` arrays of cfgparse-global.c and cfgparse-listen.c (same reason),
//      plus the directives removed in 2.1 that 2.6 still names in its errors (`reqrep`, `rspidel`, ...), and
//      `bind ... ssl`, which -dKall prints only as a scope.
// Sorted, one Set per vocabulary; arities are 1 for options printed with "+1" in the dump, else 0.

/// HAProxy 2.6 keyword tables (names only; what sluice supports is decided by the section parsers).
enum HAProxyKeywords {
    /// Section keywords HAProxy 2.6 knows; sluice parses the first five.
    static let sections: Set<String> = [
        "global", "defaults", "frontend", "backend", "listen", "peers", "resolvers", "userlist", "mailers",
        "program", "cache", "http-errors", "ring", "log-forward", "fcgi-app", "namespace_list",
    ]

    /// HAProxy's predefined ACLs (configuration.txt §7.4).
    static let predefinedACLs: Set<String> = [
        "FALSE", "HTTP", "HTTP_1.0", "HTTP_1.1", "HTTP_CONTENT", "HTTP_URL_ABS", "HTTP_URL_SLASH", "HTTP_URL_STAR",
        "LOCALHOST", "METH_CONNECT", "METH_DELETE", "METH_GET", "METH_HEAD", "METH_OPTIONS", "METH_POST", "METH_PUT",
        "METH_TRACE", "RDP_COOKIE", "REQ_CONTENT", "TRUE", "WAIT_END",
    ]

    /// Every keyword of the `global` section.
    static let global: Set<String> = [
        "51degrees-cache-size", "51degrees-data-file", "51degrees-property-name-list", "51degrees-property-separator",
        "busy-polling", "ca-base", "chroot", "close-spread-time", "cluster-secret", "cpu-map", "crt-base", "daemon",
        "default-path", "description", "deviceatlas-json-file", "deviceatlas-log-level",
        "deviceatlas-properties-cookie", "deviceatlas-separator", "expose-experimental-directives", "external-check",
        "fd-hard-limit", "gid", "grace", "group", "h1-accept-payload-with-any-method", "h1-case-adjust",
        "h1-case-adjust-file", "h2-workaround-bogus-websocket-clients", "hard-stop-after", "httpclient.resolvers.id",
        "httpclient.resolvers.prefer", "httpclient.ssl.ca-file", "httpclient.ssl.verify", "insecure-fork-wanted",
        "insecure-setuid-wanted", "issuers-chain-path", "localpeer", "log", "log-send-hostname", "log-tag",
        "lua-load", "lua-load-per-thread", "lua-prepend-path", "master-worker", "max-spread-checks",
        "maxcompcpuusage", "maxcomprate", "maxconn", "maxconnrate", "maxpipes", "maxsessrate", "maxsslconn",
        "maxsslrate", "maxzlibmem", "mworker-max-reloads", "nbproc", "nbthread", "no-memory-trimming", "node",
        "noepoll", "noevports", "nogetaddrinfo", "nokqueue", "nopoll", "noreuseport", "nosplice", "numa-cpu-mapping",
        "pidfile", "pp2-never-send-local", "presetenv", "profiling.tasks", "quiet", "resetenv", "server-state-base",
        "server-state-file", "set-dumpable", "set-var", "set-var-fmt", "setenv", "spread-checks",
        "ssl-default-bind-ciphers", "ssl-default-bind-ciphersuites", "ssl-default-bind-curves",
        "ssl-default-bind-options", "ssl-default-server-ciphers", "ssl-default-server-ciphersuites",
        "ssl-default-server-options", "ssl-dh-param-file", "ssl-engine", "ssl-load-extra-del-ext",
        "ssl-load-extra-files", "ssl-mode-async", "ssl-propquery", "ssl-provider", "ssl-provider-path",
        "ssl-server-verify", "ssl-skip-self-issued-ca", "stats", "strict-limits", "thread-group", "thread-groups",
        "tune.buffers.limit", "tune.buffers.reserve", "tune.bufsize", "tune.chksize", "tune.comp.maxlevel",
        "tune.fail-alloc", "tune.fd.edge-triggered", "tune.h2.header-table-size", "tune.h2.initial-window-size",
        "tune.h2.max-concurrent-streams", "tune.h2.max-frame-size", "tune.http.cookielen", "tune.http.logurilen",
        "tune.http.maxhdr", "tune.idle-pool.shared", "tune.idletimer", "tune.listener.multi-queue",
        "tune.lua.forced-yield", "tune.lua.maxmem", "tune.lua.service-timeout", "tune.lua.session-timeout",
        "tune.lua.task-timeout", "tune.maxaccept", "tune.maxpollevents", "tune.maxrewrite", "tune.pattern.cache-size",
        "tune.peers.max-updates-at-once", "tune.pipesize", "tune.pool-high-fd-ratio", "tune.pool-low-fd-ratio",
        "tune.quic.frontend.conn-tx-buffers.limit", "tune.quic.frontend.max-idle-timeout",
        "tune.quic.frontend.max-streams-bidi", "tune.quic.retry-threshold", "tune.rcvbuf.client",
        "tune.rcvbuf.server", "tune.recv_enough", "tune.runqueue-depth", "tune.sched.low-latency",
        "tune.sndbuf.client", "tune.sndbuf.server", "tune.ssl.cachesize", "tune.ssl.capture-buffer-size",
        "tune.ssl.capture-cipherlist-size", "tune.ssl.default-dh-param", "tune.ssl.force-private-cache",
        "tune.ssl.hard-maxrecord", "tune.ssl.keylog", "tune.ssl.lifetime", "tune.ssl.maxrecord",
        "tune.ssl.ssl-ctx-cache-size", "tune.vars.check-max-size", "tune.vars.global-max-size",
        "tune.vars.proc-max-size", "tune.vars.reqres-max-size", "tune.vars.sess-max-size", "tune.vars.txn-max-size",
        "tune.zlib.memlevel", "tune.zlib.windowsize", "uid", "ulimit-n", "unix-bind", "unsetenv", "user",
        "wurfl-cache-size", "wurfl-data-file", "wurfl-information-list", "wurfl-information-list-separator",
        "zero-warning",
    ]

    /// First words of every keyword of `defaults`, `frontend`, `backend` and `listen`.
    static let proxy: Set<String> = [
        "acl", "appsession", "backlog", "balance", "bind", "bind-process", "block", "capture", "clitcpka-cnt",
        "clitcpka-idle", "clitcpka-intvl", "clitimeout", "compression", "contimeout", "cookie", "declare",
        "default-server", "default_backend", "description", "disabled", "dispatch", "dynamic-cookie-key",
        "email-alert", "enabled", "error-log-format", "errorfile", "errorfiles", "errorloc", "errorloc302",
        "errorloc303", "external-check", "filter", "force-persist", "fullconn", "hash-balance-factor", "hash-type",
        "http-after-response", "http-check", "http-error", "http-request", "http-response", "http-reuse",
        "http-send-name-header", "id", "ignore-persist", "load-server-state-from-file", "log", "log-format",
        "log-format-sd", "log-tag", "max-keep-alive-queue", "max-session-srv-conns", "maxconn", "mode", "monitor",
        "monitor-net", "monitor-uri", "option", "persist", "rate-limit", "redirect", "redispatch", "reqadd",
        "reqallow", "reqdel", "reqdeny", "reqiallow", "reqidel", "reqideny", "reqipass", "reqirep", "reqitarpit",
        "reqpass", "reqrep", "reqtarpit", "retries", "retry-on", "rspadd", "rspdel", "rspdeny", "rspidel", "rspideny",
        "rspirep", "rsprep", "server", "server-state-file-name", "server-template", "source", "srvtcpka-cnt",
        "srvtcpka-idle", "srvtcpka-intvl", "srvtimeout", "stats", "stick", "stick-table", "tcp-check", "tcp-request",
        "tcp-response", "timeout", "transparent", "unique-id-format", "unique-id-header", "use-fcgi-app",
        "use-server", "use_backend", "usesrc",
    ]

    /// Every `option <name>` of a proxy section.
    static let options: Set<String> = [
        "abortonclose", "accept-invalid-http-request", "accept-invalid-http-response", "allbackups", "checkcache",
        "clitcpka", "contstats", "disable-h2-upgrade", "dontlog-normal", "dontlognull", "external-check", "forwarded",
        "forwardfor", "h1-case-adjust-bogus-client", "h1-case-adjust-bogus-server", "http-buffer-request",
        "http-ignore-probes", "http-keep-alive", "http-no-delay", "http-pretend-keepalive",
        "http-restrict-req-hdr-names", "http-server-close", "http-use-proxy-header", "httpchk", "httpclose",
        "httplog", "httpslog", "idle-close-on-response", "independent-streams", "ldap-check", "log-health-checks",
        "log-separate-errors", "logasap", "mysql-check", "nolinger", "original-to", "originalto", "persist",
        "pgsql-check", "prefer-last-server", "redis-check", "redispatch", "smtpchk", "socket-stats", "splice-auto",
        "splice-request", "splice-response", "spop-check", "srvtcpka", "ssl-hello-chk", "tcp-check",
        "tcp-smart-accept", "tcp-smart-connect", "tcpka", "tcplog", "transparent",
    ]

    /// Every `timeout <name>`.
    static let timeouts: Set<String> = [
        "check", "client", "client-fin", "connect", "http-keep-alive", "http-request", "queue", "server",
        "server-fin", "tarpit", "tunnel",
    ]

    /// `tcp-request connection <action>` (names of actions that take `(args)` are listed without them).
    static let tcpRequestConnectionActions: Set<String> = [
        "accept", "capture", "expect-netscaler-cip", "expect-proxy", "reject", "sc-inc-gpc", "sc-inc-gpc0",
        "sc-inc-gpc1", "sc-set-gpt", "sc-set-gpt0", "set-dst", "set-dst-port", "set-mark", "set-src", "set-src-port",
        "set-tos", "set-var", "set-var-fmt", "silent-drop", "track-sc0", "track-sc1", "track-sc2", "unset-var",
    ]

    /// `tcp-request session <action>`.
    static let tcpRequestSessionActions: Set<String> = [
        "accept", "reject", "sc-inc-gpc", "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt", "sc-set-gpt0", "set-dst",
        "set-dst-port", "set-mark", "set-src", "set-src-port", "set-tos", "set-var", "set-var-fmt", "silent-drop",
        "track-sc0", "track-sc1", "track-sc2", "unset-var",
    ]

    /// `tcp-request content <action>`.
    static let tcpRequestContentActions: Set<String> = [
        "accept", "capture", "do-resolve", "ot-group", "reject", "sc-inc-gpc", "sc-inc-gpc0", "sc-inc-gpc1",
        "sc-set-gpt", "sc-set-gpt0", "send-spoe-group", "set-dst", "set-dst-port", "set-log-level", "set-mark",
        "set-nice", "set-priority-class", "set-priority-offset", "set-src", "set-src-port", "set-tos", "set-var",
        "set-var-fmt", "silent-drop", "switch-mode", "track-sc0", "track-sc1", "track-sc2", "unset-var",
        "use-service",
    ]

    /// `http-request <action>` (actions that take `(args)` listed without them; `track-sc*`, `sc-*` by prefix).
    static let httpRequestActions: Set<String> = [
        "add-acl", "add-header", "allow", "auth", "cache-use", "capture", "del-acl", "del-header", "del-map", "deny",
        "disable-l7-retry", "do-resolve", "early-hint", "normalize-uri", "ot-group", "redirect", "reject",
        "replace-header", "replace-path", "replace-pathq", "replace-uri", "replace-value", "return", "sc-inc-gpc",
        "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt", "sc-set-gpt0", "send-spoe-group", "set-dst", "set-dst-port",
        "set-header", "set-log-level", "set-map", "set-mark", "set-method", "set-nice", "set-path", "set-pathq",
        "set-priority-class", "set-priority-offset", "set-query", "set-src", "set-src-port", "set-timeout", "set-tos",
        "set-uri", "set-var", "set-var-fmt", "silent-drop", "strict-mode", "tarpit", "track-sc0", "track-sc1",
        "track-sc2", "unset-var", "use-service", "wait-for-body", "wait-for-handshake",
    ]

    /// `http-response <action>`.
    static let httpResponseActions: Set<String> = [
        "add-acl", "add-header", "allow", "cache-store", "capture", "del-acl", "del-header", "del-map", "deny",
        "ot-group", "redirect", "replace-header", "replace-value", "return", "sc-inc-gpc", "sc-inc-gpc0",
        "sc-inc-gpc1", "sc-set-gpt", "sc-set-gpt0", "send-spoe-group", "set-header", "set-log-level", "set-map",
        "set-mark", "set-nice", "set-status", "set-tos", "set-var", "set-var-fmt", "silent-drop", "strict-mode",
        "track-sc0", "track-sc1", "track-sc2", "unset-var", "wait-for-body",
    ]

    /// `stats <keyword>` in proxy sections.
    static let statsProxyKeywords: Set<String> = [
        "admin", "auth", "bind-process", "enable", "hide-version", "http-request", "realm", "refresh", "scope",
        "show-desc", "show-legends", "show-modules", "show-node", "uri",
    ]

    /// `stats <keyword>` in the global section.
    static let statsGlobalKeywords: Set<String> = ["bind-process", "maxconn", "socket", "timeout"]

    /// `http-check <keyword>`.
    static let httpCheckKeywords: Set<String> = [
        "comment", "connect", "disable-on-404", "expect", "send", "send-state", "set-var", "set-var-fmt", "unset-var",
    ]

    /// `bind` options and how many arguments each takes.
    static let bindOptions: [String: Int] = [
        "accept-netscaler-cip": 1, "accept-proxy": 0, "allow-0rtt": 0, "alpn": 1, "backlog": 1, "ca-file": 1,
        "ca-ignore-err": 1, "ca-sign-file": 1, "ca-sign-pass": 1, "ca-verify-file": 1, "ciphers": 1,
        "ciphersuites": 1, "crl-file": 1, "crt": 1, "crt-ignore-err": 1, "crt-list": 1, "curves": 1,
        "defer-accept": 0, "ecdhe": 1, "expose-fd": 1, "force-sslv3": 0, "force-tlsv10": 0, "force-tlsv11": 0,
        "force-tlsv12": 0, "force-tlsv13": 0, "generate-certificates": 0, "gid": 1, "group": 1, "id": 1,
        "interface": 1, "level": 1, "maxconn": 1, "mode": 1, "mss": 1, "name": 1, "namespace": 1, "nice": 1,
        "no-ca-names": 0, "no-sslv3": 0, "no-tls-tickets": 0, "no-tlsv10": 0, "no-tlsv11": 0, "no-tlsv12": 0,
        "no-tlsv13": 0, "npn": 1, "prefer-client-ciphers": 0, "process": 1, "proto": 1, "severity-output": 1,
        "shards": 1, "ssl": 0, "ssl-max-ver": 1, "ssl-min-ver": 1, "strict-sni": 0, "tcp-ut": 1, "tfo": 0,
        "thread": 1, "tls-ticket-keys": 1, "transparent": 0, "uid": 1, "user": 1, "v4v6": 0, "v6only": 0, "verify": 1,
    ]

    /// `server`/`default-server` options and how many arguments each takes (`source` takes at least 1).
    static let serverOptions: [String: Int] = [
        "addr": 1, "agent-addr": 1, "agent-check": 0, "agent-inter": 1, "agent-port": 1, "agent-send": 1,
        "allow-0rtt": 0, "alpn": 1, "backup": 0, "ca-file": 1, "check": 0, "check-alpn": 1, "check-proto": 1,
        "check-send-proxy": 0, "check-sni": 1, "check-ssl": 0, "check-via-socks4": 0, "ciphers": 1, "ciphersuites": 1,
        "cookie": 1, "crl-file": 1, "crt": 1, "disabled": 0, "downinter": 1, "enabled": 0, "error-limit": 1,
        "fall": 1, "fastinter": 1, "force-sslv3": 0, "force-tlsv10": 0, "force-tlsv11": 0, "force-tlsv12": 0,
        "force-tlsv13": 0, "id": 1, "init-addr": 1, "inter": 1, "log-proto": 1, "max-reuse": 1, "maxconn": 1,
        "maxqueue": 1, "minconn": 1, "namespace": 1, "no-agent-check": 0, "no-backup": 0, "no-check": 0,
        "no-check-send-proxy": 0, "no-check-ssl": 0, "no-send-proxy": 0, "no-send-proxy-v2": 0,
        "no-send-proxy-v2-ssl": 0, "no-send-proxy-v2-ssl-cn": 0, "no-ssl": 0, "no-ssl-reuse": 0, "no-sslv3": 0,
        "no-tfo": 0, "no-tls-tickets": 0, "no-tlsv10": 0, "no-tlsv11": 0, "no-tlsv12": 0, "no-tlsv13": 0,
        "non-stick": 0, "npn": 1, "observe": 1, "on-error": 1, "on-marked-down": 1, "on-marked-up": 1,
        "pool-low-conn": 1, "pool-max-conn": 1, "pool-purge-delay": 1, "port": 1, "proto": 1, "proxy-v2-options": 1,
        "redir": 1, "resolve-net": 1, "resolve-opts": 1, "resolve-prefer": 1, "resolvers": 1, "rise": 1,
        "send-proxy": 0, "send-proxy-v2": 0, "send-proxy-v2-ssl": 0, "send-proxy-v2-ssl-cn": 0, "slowstart": 1,
        "sni": 1, "socks4": 1, "source": 1, "ssl": 0, "ssl-max-ver": 1, "ssl-min-ver": 1, "ssl-reuse": 0, "stick": 0,
        "tcp-ut": 1, "tfo": 0, "tls-tickets": 0, "track": 1, "usesrc": 0, "verify": 1, "verifyhost": 1, "weight": 1,
        "ws": 1,
    ]

    /// Every sample fetch name.
    static let sampleFetches: Set<String> = [
        "always_false", "always_true", "avg_queue", "base", "base32", "base32+src", "baseq", "bc_dst", "bc_dst_port",
        "bc_err", "bc_err_str", "bc_http_major", "bc_src", "bc_src_port", "be_conn", "be_conn_free", "be_id",
        "be_name", "be_server_timeout", "be_sess_rate", "be_tunnel_timeout", "bin", "bool", "capture.req.hdr",
        "capture.req.method", "capture.req.uri", "capture.req.ver", "capture.res.hdr", "capture.res.ver", "connslots",
        "cook", "cook_cnt", "cook_val", "cookie", "cpu_calls", "cpu_ns_avg", "cpu_ns_tot", "cur_server_timeout",
        "cur_tunnel_timeout", "date", "date_us", "distcc_body", "distcc_param", "dst", "dst_conn", "dst_is_local",
        "dst_port", "env", "fc_dst", "fc_dst_is_local", "fc_dst_port", "fc_err", "fc_err_str", "fc_fackets",
        "fc_http_major", "fc_lost", "fc_pp_authority", "fc_pp_unique_id", "fc_rcvd_proxy", "fc_reordering",
        "fc_retrans", "fc_rtt", "fc_rttvar", "fc_sacked", "fc_src", "fc_src_is_local", "fc_src_port", "fc_unacked",
        "fcgi.docroot", "fcgi.index", "fe_client_timeout", "fe_conn", "fe_defbe", "fe_id", "fe_name", "fe_req_rate",
        "fe_sess_rate", "hdr", "hdr_cnt", "hdr_ip", "hdr_val", "hostname", "http_auth", "http_auth_bearer",
        "http_auth_group", "http_auth_pass", "http_auth_type", "http_auth_user", "http_first_req", "int",
        "internal.htx.data", "internal.htx.free", "internal.htx.free_data", "internal.htx.has_eom",
        "internal.htx.nbblks", "internal.htx.size", "internal.htx.used", "internal.htx_blk.data",
        "internal.htx_blk.hdrname", "internal.htx_blk.hdrval", "internal.htx_blk.size", "internal.htx_blk.start_line",
        "internal.htx_blk.type", "internal.strm.is_htx", "ipv4", "ipv6", "last_rule_file", "last_rule_line",
        "lat_ns_avg", "lat_ns_tot", "meth", "method", "nbproc", "nbsrv", "path", "pathq", "payload", "payload_lv",
        "prio_class", "prio_offset", "proc", "query", "queue", "rand", "rdp_cookie", "rdp_cookie_cnt",
        "rep_ssl_hello_type", "req.body", "req.body_len", "req.body_param", "req.body_size", "req.cook",
        "req.cook_cnt", "req.cook_val", "req.fhdr", "req.fhdr_cnt", "req.hdr", "req.hdr_cnt", "req.hdr_ip",
        "req.hdr_names", "req.hdr_val", "req.hdrs", "req.hdrs_bin", "req.len", "req.payload", "req.payload_lv",
        "req.proto_http", "req.rdp_cookie", "req.rdp_cookie_cnt", "req.ssl_alpn", "req.ssl_ec_ext",
        "req.ssl_hello_type", "req.ssl_sni", "req.ssl_st_ext", "req.ssl_ver", "req.ver", "req_len", "req_proto_http",
        "req_ssl_hello_type", "req_ssl_sni", "req_ssl_ver", "req_ver", "res.body", "res.body_len", "res.body_size",
        "res.cache_hit", "res.cache_name", "res.comp", "res.comp_algo", "res.cook", "res.cook_cnt", "res.cook_val",
        "res.fhdr", "res.fhdr_cnt", "res.hdr", "res.hdr_cnt", "res.hdr_ip", "res.hdr_names", "res.hdr_val",
        "res.hdrs", "res.hdrs_bin", "res.len", "res.payload", "res.payload_lv", "res.ssl_hello_type", "res.ver",
        "resp_ver", "sc0_bytes_in_rate", "sc0_bytes_out_rate", "sc0_clr_gpc0", "sc0_clr_gpc1", "sc0_conn_cnt",
        "sc0_conn_cur", "sc0_conn_rate", "sc0_get_gpc0", "sc0_get_gpc1", "sc0_get_gpt0", "sc0_gpc0_rate",
        "sc0_gpc1_rate", "sc0_http_err_cnt", "sc0_http_err_rate", "sc0_http_fail_cnt", "sc0_http_fail_rate",
        "sc0_http_req_cnt", "sc0_http_req_rate", "sc0_inc_gpc0", "sc0_inc_gpc1", "sc0_kbytes_in", "sc0_kbytes_out",
        "sc0_sess_cnt", "sc0_sess_rate", "sc0_tracked", "sc0_trackers", "sc1_bytes_in_rate", "sc1_bytes_out_rate",
        "sc1_clr_gpc", "sc1_clr_gpc0", "sc1_clr_gpc1", "sc1_conn_cnt", "sc1_conn_cur", "sc1_conn_rate",
        "sc1_get_gpc0", "sc1_get_gpc1", "sc1_get_gpt0", "sc1_gpc0_rate", "sc1_gpc1_rate", "sc1_http_err_cnt",
        "sc1_http_err_rate", "sc1_http_fail_cnt", "sc1_http_fail_rate", "sc1_http_req_cnt", "sc1_http_req_rate",
        "sc1_inc_gpc0", "sc1_inc_gpc1", "sc1_kbytes_in", "sc1_kbytes_out", "sc1_sess_cnt", "sc1_sess_rate",
        "sc1_tracked", "sc1_trackers", "sc2_bytes_in_rate", "sc2_bytes_out_rate", "sc2_clr_gpc0", "sc2_clr_gpc1",
        "sc2_conn_cnt", "sc2_conn_cur", "sc2_conn_rate", "sc2_get_gpc0", "sc2_get_gpc1", "sc2_get_gpt0",
        "sc2_gpc0_rate", "sc2_gpc1_rate", "sc2_http_err_cnt", "sc2_http_err_rate", "sc2_http_fail_cnt",
        "sc2_http_fail_rate", "sc2_http_req_cnt", "sc2_http_req_rate", "sc2_inc_gpc0", "sc2_inc_gpc1",
        "sc2_kbytes_in", "sc2_kbytes_out", "sc2_sess_cnt", "sc2_sess_rate", "sc2_tracked", "sc2_trackers",
        "sc_bytes_in_rate", "sc_bytes_out_rate", "sc_clr_gpc", "sc_clr_gpc0", "sc_clr_gpc1", "sc_conn_cnt",
        "sc_conn_cur", "sc_conn_rate", "sc_get_gpc", "sc_get_gpc0", "sc_get_gpc1", "sc_get_gpt", "sc_get_gpt0",
        "sc_gpc0_rate", "sc_gpc1_rate", "sc_gpc_rate", "sc_http_err_cnt", "sc_http_err_rate", "sc_http_fail_cnt",
        "sc_http_fail_rate", "sc_http_req_cnt", "sc_http_req_rate", "sc_inc_gpc", "sc_inc_gpc0", "sc_inc_gpc1",
        "sc_kbytes_in", "sc_kbytes_out", "sc_sess_cnt", "sc_sess_rate", "sc_tracked", "sc_trackers", "scook",
        "scook_cnt", "scook_val", "shdr", "shdr_cnt", "shdr_ip", "shdr_val", "so_id", "so_name", "src",
        "src_bytes_in_rate", "src_bytes_out_rate", "src_clr_gpc", "src_clr_gpc0", "src_clr_gpc1", "src_conn_cnt",
        "src_conn_cur", "src_conn_rate", "src_get_gpc", "src_get_gpc0", "src_get_gpc1", "src_get_gpt", "src_get_gpt0",
        "src_gpc0_rate", "src_gpc1_rate", "src_gpc_rate", "src_http_err_cnt", "src_http_err_rate",
        "src_http_fail_cnt", "src_http_fail_rate", "src_http_req_cnt", "src_http_req_rate", "src_inc_gpc",
        "src_inc_gpc0", "src_inc_gpc1", "src_is_local", "src_kbytes_in", "src_kbytes_out", "src_port", "src_sess_cnt",
        "src_sess_rate", "src_updt_conn_cnt", "srv_conn", "srv_conn_free", "srv_id", "srv_is_up", "srv_iweight",
        "srv_name", "srv_queue", "srv_sess_rate", "srv_uweight", "srv_weight", "ssl_bc", "ssl_bc_alg_keysize",
        "ssl_bc_alpn", "ssl_bc_cipher", "ssl_bc_client_random", "ssl_bc_err", "ssl_bc_err_str", "ssl_bc_is_resumed",
        "ssl_bc_npn", "ssl_bc_protocol", "ssl_bc_server_random", "ssl_bc_session_id", "ssl_bc_session_key",
        "ssl_bc_unique_id", "ssl_bc_use_keysize", "ssl_c_ca_err", "ssl_c_ca_err_depth", "ssl_c_chain_der",
        "ssl_c_der", "ssl_c_err", "ssl_c_i_dn", "ssl_c_key_alg", "ssl_c_notafter", "ssl_c_notbefore", "ssl_c_s_dn",
        "ssl_c_serial", "ssl_c_sha1", "ssl_c_sig_alg", "ssl_c_used", "ssl_c_verify", "ssl_c_version", "ssl_f_der",
        "ssl_f_i_dn", "ssl_f_key_alg", "ssl_f_notafter", "ssl_f_notbefore", "ssl_f_s_dn", "ssl_f_serial",
        "ssl_f_sha1", "ssl_f_sig_alg", "ssl_f_version", "ssl_fc", "ssl_fc_alg_keysize", "ssl_fc_alpn",
        "ssl_fc_cipher", "ssl_fc_cipherlist_bin", "ssl_fc_cipherlist_hex", "ssl_fc_cipherlist_str",
        "ssl_fc_cipherlist_xxh", "ssl_fc_client_early_traffic_secret", "ssl_fc_client_handshake_traffic_secret",
        "ssl_fc_client_random", "ssl_fc_client_traffic_secret_0", "ssl_fc_early_exporter_secret",
        "ssl_fc_ecformats_bin", "ssl_fc_eclist_bin", "ssl_fc_err", "ssl_fc_err_str", "ssl_fc_exporter_secret",
        "ssl_fc_extlist_bin", "ssl_fc_has_crt", "ssl_fc_has_early", "ssl_fc_has_sni", "ssl_fc_is_resumed",
        "ssl_fc_npn", "ssl_fc_protocol", "ssl_fc_protocol_hello_id", "ssl_fc_server_handshake_traffic_secret",
        "ssl_fc_server_random", "ssl_fc_server_traffic_secret_0", "ssl_fc_session_id", "ssl_fc_session_key",
        "ssl_fc_sni", "ssl_fc_unique_id", "ssl_fc_use_keysize", "ssl_s_chain_der", "ssl_s_der", "ssl_s_i_dn",
        "ssl_s_key_alg", "ssl_s_notafter", "ssl_s_notbefore", "ssl_s_s_dn", "ssl_s_serial", "ssl_s_sha1",
        "ssl_s_sig_alg", "ssl_s_version", "status", "stopping", "str", "table_avl", "table_cnt", "thread",
        "unique-id", "url", "url32", "url32+src", "url_ip", "url_param", "url_port", "urlp", "urlp_val", "uuid",
        "var", "wait_end",
    ]

    /// ACL keywords that are not sample fetch names (`hdr_beg`, `path_end`, ...).
    static let aclKeywords: Set<String> = [
        "base", "base_beg", "base_dir", "base_dom", "base_end", "base_len", "base_reg", "base_sub", "cook",
        "cook_beg", "cook_dir", "cook_dom", "cook_end", "cook_len", "cook_reg", "cook_sub", "hdr", "hdr_beg",
        "hdr_dir", "hdr_dom", "hdr_end", "hdr_len", "hdr_reg", "hdr_sub", "http_auth_group", "method", "path",
        "path_beg", "path_dir", "path_dom", "path_end", "path_len", "path_reg", "path_sub", "payload", "payload_lv",
        "req.ssl_ver", "req_rdp_cookie", "req_rdp_cookie_cnt", "req_ssl_sni", "req_ssl_ver", "req_ver", "resp_ver",
        "scook", "scook_beg", "scook_dir", "scook_dom", "scook_end", "scook_len", "scook_reg", "scook_sub", "shdr",
        "shdr_beg", "shdr_dir", "shdr_dom", "shdr_end", "shdr_len", "shdr_reg", "shdr_sub", "ssl_fc_sni_end",
        "ssl_fc_sni_reg", "url", "url_beg", "url_dir", "url_dom", "url_end", "url_len", "url_reg", "url_sub", "urlp",
        "urlp_beg", "urlp_dir", "urlp_dom", "urlp_end", "urlp_len", "urlp_reg", "urlp_sub",
    ]

    /// Every converter name.
    static let converters: Set<String> = [
        "add", "add_item", "aes_gcm_dec", "and", "b64dec", "base64", "be2dec", "be2hex", "bool", "bytes",
        "capture-req", "capture-res", "concat", "cpl", "crc32", "crc32c", "cut_crlf", "debug", "digest", "div",
        "djb2", "even", "field", "fix_is_valid", "fix_tag_value", "hex", "hex2i", "hmac", "host_only", "htonl",
        "http_date", "iif", "in_table", "ipmask", "json", "json_query", "jwt_header_query", "jwt_payload_query",
        "jwt_verify", "language", "length", "lower", "ltime", "ltrim", "map", "map_beg", "map_beg_int", "map_beg_ip",
        "map_dir", "map_dir_int", "map_dir_ip", "map_dom", "map_dom_int", "map_dom_ip", "map_end", "map_end_int",
        "map_end_ip", "map_int", "map_int_int", "map_int_ip", "map_ip", "map_ip_int", "map_ip_ip", "map_reg",
        "map_reg_int", "map_reg_ip", "map_regm", "map_str", "map_str_int", "map_str_ip", "map_sub", "map_sub_int",
        "map_sub_ip", "mod", "mqtt_field_value", "mqtt_is_valid", "mul", "nbsrv", "neg", "not", "odd", "or",
        "port_only", "protobuf", "regsub", "rtrim", "sdbm", "secure_memcmp", "set-var", "sha1", "sha2", "srv_queue",
        "strcmp", "sub", "table_bytes_in_rate", "table_bytes_out_rate", "table_conn_cnt", "table_conn_cur",
        "table_conn_rate", "table_expire", "table_gpc", "table_gpc0", "table_gpc0_rate", "table_gpc1",
        "table_gpc1_rate", "table_gpc_rate", "table_gpt", "table_gpt0", "table_http_err_cnt", "table_http_err_rate",
        "table_http_fail_cnt", "table_http_fail_rate", "table_http_req_cnt", "table_http_req_rate", "table_idle",
        "table_kbytes_in", "table_kbytes_out", "table_server_id", "table_sess_cnt", "table_sess_rate",
        "table_trackers", "ub64dec", "ub64enc", "ungrpc", "unset-var", "upper", "url_dec", "url_enc", "utime", "word",
        "wt6", "xor", "xxh3", "xxh32", "xxh64",
    ]
}
