// SPDX-License-Identifier: Apache-2.0
// Runtime: the configuration turned into live objects: frontends, backends, servers, compiled rules, and the
// listening sockets bound for them. Building (compile) opens no socket, so `sluice -c` runs it too and reports
// every problem; binding is a separate step that fails as a whole.
import Glibc
import SluiceConfig
import SluiceCore
import SluiceTLS

/// A listening socket bound for a frontend, not yet in the poller.
struct BoundSocket {
    let fd: FD
    let address: BindAddress
    let bind: BindConfig
    let frontend: Frontend
    /// `fd@N` or socket activation: the socket came from our parent, which may still hold it.
    let isInherited: Bool
    /// On reload: the running listener whose socket is kept for this address (never closed and reopened).
    let keptListener: Listener?
    /// `ssl` on the bind line: the context its connections handshake with.
    let tlsContext: TLSContext?
}

/// Where a listening socket for an address can come from instead of a fresh bind: a running listener (reload)
/// or a socket inherited from systemd (socket activation).
struct ExistingSocket {
    let fd: FD
    let isInherited: Bool
    let listener: Listener?
}

/// The live objects of one configuration. Loop-thread only once the loop runs.
final class Runtime {
    let config: Configuration
    let frontends: [Frontend]
    let backends: [Backend]
    private(set) var boundSockets: [BoundSocket] = []
    /// `stats socket` listeners bound for this runtime (AdminSocket.swift).
    var adminSockets: [BoundAdminSocket] = []

    private init(config: Configuration, frontends: [Frontend], backends: [Backend]) {
        self.config = config
        self.frontends = frontends
        self.backends = backends
    }

    /// Compiles `config`: resolves backend names, compiles ACLs and rules, opens log sinks when `openLogs`.
    /// Returns every error found (never only the first).
    static func build(
        _ config: Configuration,
        globalMaxConnections: Int,
        globalLogSinks: [LogSink],
        openLogs: Bool
    ) -> (runtime: Runtime?, errors: [ConfigError]) {
        var compiler = RuntimeCompiler(global: config.global)
        var backendsByName: [String: Backend] = [:]
        var backends: [Backend] = []
        for p in config.proxies where p.capabilities.contains(.backend) {
            compiler.refuseUnimplemented(p)
            let b = Backend(config: p)
            if p.capabilities == .backend {
                let acls = compiler.acls(of: p)
                b.errors = compiler.errorResponses(of: p)
                b.rules = compiler.rules(of: p, acls: acls, errors: b.errors)
                b.forwardFor = p.forwardFor.map(CompiledForwardFor.init)
            }
            for s in b.servers where s.config.options.usesTLS {
                s.tlsContext = compiler.serverContext(s.config.options.tls, location: s.config.location)
                if s.config.options.tls.reusesSessions { s.tlsSessions = TLSSessionSlot() }
                s.sniName = Self.constantSNI(s.config.options.tls.sni)
                if let sni = s.config.options.tls.sni, s.sniName == nil {
                    s.sniFetch = compiler.serverNameFetch(sni, of: b, server: s.name, location: s.config.location)
                }
            }
            compiler.compileChecks(of: b)
            backends.append(b)
            backendsByName[p.name] = b
        }
        var frontends: [Frontend] = []
        // One address, one frontend: a second bind would fail at start, or silently share the port (SO_REUSEADDR
        // does not allow two listeners on one TCP address, but fd@ and unix@ forms would).
        var boundBy: [BindAddress: (frontend: String, location: SourceLocation)] = [:]
        for p in config.proxies where p.capabilities.contains(.frontend) {
            for bind in p.binds {
                for address in bind.addresses {
                    if let first = boundBy[address] {
                        compiler.errors.append(
                            ConfigError(
                                bind.location,
                                "\(p.capabilities == .listen ? "listen" : "frontend") '\(p.name)' binds \(address), "
                                    + "already bound by '\(first.frontend)' at \(first.location)"
                            )
                        )
                    } else {
                        boundBy[address] = (p.name, bind.location)
                    }
                }
            }
        }
        for p in config.proxies where p.capabilities.contains(.frontend) {
            if !p.capabilities.contains(.backend) { compiler.refuseUnimplemented(p) }
            let acls = compiler.acls(of: p)
            var defaultBackend: Backend? = nil
            if let name = p.defaultBackend {
                defaultBackend = backendsByName[name]
                if defaultBackend == nil {
                    compiler.errors.append(ConfigError(p.location, "unable to find required default_backend: '\(name)'"))
                }
            } else if p.capabilities.contains(.backend) {
                defaultBackend = backendsByName[p.name]
            }
            var switches: [BackendSwitch] = []
            for rule in p.backendSwitchRules {
                guard let b = backendsByName[rule.backend] else {
                    compiler.errors.append(ConfigError(rule.location, "unable to find required use_backend: '\(rule.backend)'"))
                    continue
                }
                switches.append(BackendSwitch(backend: b, condition: rule.condition.map(CompiledCondition.init)))
            }
            var connectionRules: [ConnectionRule] = []
            var contentRules: [ConnectionRule] = []
            for rule in p.tcpRequestRules {
                let compiled = ConnectionRule(accepts: rule.action == .accept, condition: rule.condition.map(CompiledCondition.init))
                switch rule.stage {
                case .connection: connectionRules.append(compiled)
                case .content: contentRules.append(compiled)
                }
            }
            var sinks: [LogSink] = []
            if openLogs {
                if p.usesGlobalLog { sinks += globalLogSinks }
                for t in p.logTargets {
                    if let s = LogSink(target: t) { sinks.append(s) }
                }
            }
            let f = Frontend(
                config: p,
                maxConnections: p.maxconn ?? globalMaxConnections,
                defaultBackend: defaultBackend,
                switches: switches,
                connectionRules: connectionRules,
                acls: acls,
                logSinks: sinks
            )
            f.contentRules = contentRules
            f.errors = compiler.errorResponses(of: p)
            f.rules = compiler.rules(of: p, acls: acls, errors: f.errors)
            f.forwardFor = p.forwardFor.map(CompiledForwardFor.init)
            f.bindContexts = p.binds.map { bind in bind.tls.flatMap { compiler.bindContext($0, mode: p.mode, location: bind.location) } }
            if p.capabilities.contains(.backend), let own = backendsByName[p.name] {
                own.errors = f.errors  // a listen answers with its own error pages either way
            }
            frontends.append(f)
        }
        let errors = compiler.errors
        if !errors.isEmpty { return (nil, errors) }
        return (Runtime(config: config, frontends: frontends, backends: backends), [])
    }

    /// A `sni` that is a constant (`str(name)`), usable for every connection to the server; nil otherwise.
    static func constantSNI(_ sni: SampleExpression?) -> String? {
        guard let sni, sni.fetch.name == "str" else { return nil }
        return sni.fetch.argument
    }

    /// Binds and listens on every address of every frontend, taking an existing socket for an address when
    /// `existing` has one (a kept listener on reload, a socket-activated one at start), then the `stats socket`s
    /// (a kept one from `existingAdmin`). On the first failure the sockets opened here are closed (existing ones
    /// are left alone) and the error is returned as a message.
    func bindAll(
        existing: (BindAddress) -> ExistingSocket? = { _ in nil },
        existingAdmin: (BindAddress) -> AdminListener? = { _ in nil }
    ) -> String? {
        for f in frontends {
            for (bindIndex, bind) in f.config.binds.enumerated() {
                let context = bindIndex < f.bindContexts.count ? f.bindContexts[bindIndex] : nil
                for address in bind.addresses {
                    if let e = existing(address) {
                        boundSockets.append(
                            BoundSocket(
                                fd: e.fd, address: address, bind: bind, frontend: f, isInherited: e.isInherited,
                                keptListener: e.listener, tlsContext: context
                            )
                        )
                        continue
                    }
                    let backlog = bind.backlog ?? f.maxConnections
                    switch Self.openListener(address, backlog: backlog) {
                    case .success(let (fd, inherited)):
                        boundSockets.append(
                            BoundSocket(
                                fd: fd, address: address, bind: bind, frontend: f, isInherited: inherited,
                                keptListener: nil, tlsContext: context
                            )
                        )
                    case .failure(let message):
                        closeOpenedSockets()
                        return "Starting frontend \(f.name): \(message.message) [\(address)] (\(bind.location))"
                    }
                }
            }
        }
        return bindAdminSockets(existing: existingAdmin)
    }

    /// Closes the sockets `bindAll` opened itself (after a failed bind, or when a reload is abandoned).
    func closeOpenedSockets() {
        for s in boundSockets where s.keptListener == nil && !s.isInherited { Sys.close(s.fd) }
        boundSockets.removeAll()
        closeOpenedAdminSockets()
    }

    /// Creates, binds and listens (or adopts an inherited `fd@N`) one listening socket.
    static func openListener(_ address: BindAddress, backlog: Int) -> Result<(FD, Bool), BindFailure> {
        let listenBacklog = CInt(max(1, min(backlog, 65535)))
        switch address {
        case .inet(let network):
            let endpoint = endpoint(for: network)
            let fd: FD
            do {
                fd = try Sys.socket(domain: endpoint.socketDomain, type: Sys.streamSocket)
            } catch {
                return .failure(BindFailure("cannot create listening socket (\(error))"))
            }
            do {
                try Sys.setsockopt(fd, level: SOL_SOCKET, option: SO_REUSEADDR, value: 1)
                // Accepted sockets inherit TCP_NODELAY from the listener: one setsockopt here, none per client.
                try Sys.setsockopt(fd, level: CInt(IPPROTO_TCP), option: TCP_NODELAY, value: 1)
                try Sys.bind(fd, to: endpoint)
            } catch {
                Sys.close(fd)
                return .failure(BindFailure("cannot bind socket (\(error))"))
            }
            do {
                try Sys.listen(fd, backlog: listenBacklog)
            } catch {
                Sys.close(fd)
                return .failure(BindFailure("cannot listen to socket (\(error))"))
            }
            return .success((fd, false))
        case .unix(let path):
            let fd: FD
            do {
                fd = try Sys.socket(domain: AF_UNIX, type: Sys.streamSocket)
            } catch {
                return .failure(BindFailure("cannot create listening socket (\(error))"))
            }
            unlinkSocket(path)
            do {
                try Sys.bind(fd, toUnixPath: path)
                try Sys.listen(fd, backlog: listenBacklog)
            } catch {
                Sys.close(fd)
                return .failure(BindFailure("cannot bind UNIX socket (\(error))"))
            }
            return .success((fd, false))
        case .inheritedFD(let n):
            let fd = FD(n)
            guard let info = Sys.socketInfo(fd) else {
                return .failure(BindFailure("inherited fd \(n) is not an open socket"))
            }
            guard info.type == Sys.streamSocket else {
                return .failure(BindFailure("inherited fd \(n) is not a stream socket"))
            }
            do {
                try Sys.setNonBlocking(fd)
                try Sys.setCloseOnExec(fd)
                if info.domain == AF_INET || info.domain == AF_INET6 {
                    try? Sys.setsockopt(fd, level: CInt(IPPROTO_TCP), option: TCP_NODELAY, value: 1)
                }
                // Listening again on a listening socket only updates its backlog.
                try Sys.listen(fd, backlog: listenBacklog)
            } catch {
                return .failure(BindFailure("cannot listen on inherited fd \(n) (\(error))"))
            }
            return .success((fd, true))
        }
    }

    /// Removes a stale unix socket file before binding (only if it is a socket).
    static func unlinkSocket(_ path: String) {
        var st = stat()
        if lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
    }

    /// The IPEndpoint of a resolved config address (a unix path yields `.none`).
    static func endpoint(for address: NetworkAddress) -> IPEndpoint {
        switch address {
        case .ipv4(let a, let port):
            return IPEndpoint(ipv4: a, port: port)
        case .ipv6(let a, let port):
            return IPEndpoint(ipv6High: a.high, low: a.low, port: port)
        case .unix:
            return .none
        }
    }
}

/// Why a listening socket could not be opened.
struct BindFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
