// SPDX-License-Identifier: Apache-2.0
// Daemon: the process-level sequence around the loop, called by main.swift: check a configuration (`-c`), or
// build the runtime, bind, daemonize if asked, write the pidfile, route signals, tell systemd READY=1, run, and
// return the exit code. Nothing here runs per event.
internal import CSluiceSSL
import Glibc
import SluiceConfig
import SluiceCore

/// Command-line switches that affect running (the config paths are main.swift's business).
public struct DaemonOptions: Sendable {
    /// `-d`: trace connections and decisions on stderr, stay in the foreground.
    public var isDebug = false
    /// `-q`: no notices on stderr.
    public var isQuiet = false
    /// `-D`: fork into the background.
    public var daemonize = false
    /// `-p FILE`: write the pid there.
    public var pidFile: String?

    public init() {}
}

/// The process around the loop.
public enum Daemon {
    /// `sluice -v`.
    public static let version = "0.1.0"

    public static var versionLine: String { "sluice version \(version) - a TCP/TLS reverse proxy for Linux" }

    /// `sluice -vv`: the version plus what it was built with.
    public static var buildDetails: String {
        let built = String(cString: csluice_OPENSSL_VERSION_TEXT())
        let running = String(cString: csluice_OpenSSL_version_text())
        return """
            \(versionLine)
            Built with OpenSSL version : \(built)
            Running on OpenSSL version : \(running)
            Built with systemd support : sd_notify (Type=notify), socket activation (libsystemd)
            Poller : epoll (speculative, event-driven; one thread)
            """
    }

    /// The checks `-c` runs beyond parsing: everything the runtime would refuse, rendered as alert lines.
    public static func check(_ config: Configuration) -> [String] {
        let built = Runtime.build(config, globalMaxConnections: config.global.maxconn ?? 1, globalLogSinks: [], openLogs: false)
        return built.errors.map { $0.rendered }
    }

    /// Every diagnostic of a load. When the parse failed the runtime is never built, so the certificates, keys
    /// and CA files of the lines that parsed cleanly are read anyway: one run (`-c`, start or reload) names
    /// every mistake, each in file order among the others.
    public static func diagnostics(of loaded: ConfigLoadResult) -> [Diagnostic] {
        guard loaded.configuration == nil, let partial = loaded.partialConfiguration else { return loaded.diagnostics }
        let alerted = Set(loaded.diagnostics.compactMap { $0.severity == .alert ? $0.location : nil })
        let tlsErrors = RuntimeCompiler.tlsContentErrors(of: partial, skipping: alerted).map {
            Diagnostic(severity: .alert, location: $0.location, message: $0.message)
        }
        return loaded.diagnostics.merging(tlsErrors)
    }

    /// Runs the proxy until it stops. Returns the process exit code: 0 after a requested stop, 1 when the
    /// configuration cannot be started.
    public static func run(_ config: Configuration, configPaths: [String], options: DaemonOptions) -> Int32 {
        let log = Logger()
        log.isDebugEnabled = options.isDebug
        log.isQuiet = options.isQuiet
        // SIGPIPE must never kill the daemon: sends use MSG_NOSIGNAL, but OpenSSL writes with write().
        Sys.ignoreSignal(SIGPIPE)

        let fdLimit = Sys.raiseOpenFilesLimit()
        let derived = max(1, (fdLimit - 100) / 2)
        let maxConnections = config.global.maxconn ?? derived
        if maxConnections * 2 + 100 > fdLimit {
            log.admin(
                .warning,
                "FD limit (\(fdLimit)) too low for maxconn=\(maxConnections): raise the open-files limit to "
                    + "\(maxConnections * 2 + 100) or more to avoid running out of descriptors"
            )
        }
        log.globalSinks = config.global.logTargets.compactMap { LogSink(target: $0) }

        let built = Runtime.build(
            config,
            globalMaxConnections: maxConnections,
            globalLogSinks: log.globalSinks,
            openLogs: true
        )
        guard let runtime = built.runtime else {
            for e in built.errors { writeStderr(e.rendered) }
            writeStderr("[ALERT] Fatal errors found in configuration.")
            return 1
        }
        // Socket activation: systemd's sockets serve the bind lines with the same address (or `fd@N`).
        var activated: [BindAddress: FD] = [:]
        var activatedByNumber: [Int32: FD] = [:]
        for (fd, name) in ServiceNotifier.takeActivatedSockets() {
            activatedByNumber[fd.rawValue] = fd
            if let address = boundAddress(of: fd) {
                activated[address] = fd
            } else {
                log.admin(.warning, "socket-activated fd \(fd.rawValue) (\(name)) is not a listening stream socket")
            }
        }
        var used = Set<Int32>()
        if let failure = runtime.bindAll(existing: { address in
            var fd: FD?
            if case .inheritedFD(let n) = address { fd = activatedByNumber[n] } else { fd = activated[address] }
            guard let fd, !used.contains(fd.rawValue) else { return nil }
            used.insert(fd.rawValue)
            guard case .success = Runtime.openListener(.inheritedFD(fd.rawValue), backlog: 1024) else { return nil }
            return ExistingSocket(fd: fd, isInherited: true, listener: nil)
        }) {
            log.admin(.alert, failure)
            return 1
        }
        for fd in activatedByNumber.values where !used.contains(fd.rawValue) {
            let address = boundAddress(of: fd).map { "\($0)" } ?? "unknown address"
            log.admin(.warning, "socket-activated fd \(fd.rawValue) (\(address)) matches no bind line; closing it")
            Sys.close(fd)
        }
        if options.daemonize || config.global.daemon {
            if !daemonize(log) { return 1 }
        }
        if let path = options.pidFile ?? config.global.pidfile {
            if !writePidFile(path) {
                log.admin(.alert, "cannot write pidfile '\(path)': \(Errno(rawValue: Sys.errno))")
                return 1
            }
        }
        // Identity last: the pidfile may live where only root writes (/run).
        // Before any chroot: a chrooted process cannot reach NOTIFY_SOCKET by its path any more.
        let notifier = ServiceNotifier(preconnect: config.global.chroot != nil)
        if let failure = Privileges.drop(config.global) {
            log.admin(.alert, failure)
            return 1
        }
        let signalFD: FD
        do {
            signalFD = try Sys.signalfd(blocking: [SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP, SIGTTOU, SIGTTIN])
        } catch {
            log.admin(.alert, "cannot create signalfd: \(error)")
            return 1
        }
        let loop: Loop
        do {
            loop = try Loop(
                runtime: runtime,
                configPaths: configPaths,
                log: log,
                notifier: notifier,
                fdCapacity: fdLimit,
                maxConnections: maxConnections
            )
        } catch {
            log.admin(.alert, "cannot create the epoll instance: \(error)")
            return 1
        }
        loop.installListeners()
        loop.installSignals(fd: signalFD)
        loop.startChecks()
        let summary = "\(runtime.frontends.count) frontends, \(runtime.backends.count) backends, "
            + "\(runtime.boundSockets.count) listeners, maxconn \(maxConnections)"
        log.admin(.notice, "sluice \(version) started: \(summary)")
        notifier.ready(status: loop.statusLine())
        loop.startServiceTimer()
        loop.run()
        return 0
    }

    /// The address a socket is bound to, as a bind line would name it (nil if not a stream socket).
    static func boundAddress(of fd: FD) -> BindAddress? {
        guard let info = Sys.socketInfo(fd), info.type == Sys.streamSocket else { return nil }
        if info.domain == AF_UNIX {
            let path = Sys.localUnixPath(fd)
            return path.isEmpty ? nil : .unix(path: path)
        }
        let e = Sys.localEndpoint(fd)
        switch e.family {
        case .ipv4: return .inet(.ipv4(address: e.ipv4Address, port: e.port))
        case .ipv6: return .inet(.ipv6(address: IPv6Bytes(high: e.high, low: e.low), port: e.port))
        default: return nil
        }
    }

    /// Forks into the background: the parent exits 0, the child starts a new session with stdio on /dev/null.
    private static func daemonize(_ log: Logger) -> Bool {
        let pid = fork()
        if pid < 0 {
            log.admin(.alert, "cannot fork into the background: \(Errno(rawValue: Sys.errno))")
            return false
        }
        if pid > 0 { _exit(0) }
        _ = setsid()
        let null = open("/dev/null", O_RDWR)
        if null >= 0 {
            _ = dup2(null, 0)
            _ = dup2(null, 1)
            _ = dup2(null, 2)
            if null > 2 { Glibc.close(null) }
        }
        return true
    }

    private static func writePidFile(_ path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var text = "\(Sys.getpid())\n"
        return text.withUTF8 { buf in Glibc.write(fd, buf.baseAddress, buf.count) == buf.count }
    }

    private static func writeStderr(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { _ = Sys.write(.standardError, from: UnsafeRawBufferPointer($0)) }
    }
}
