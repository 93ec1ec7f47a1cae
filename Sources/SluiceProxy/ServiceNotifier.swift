// SPDX-License-Identifier: Apache-2.0
// ServiceNotifier: the service-manager seam, the one place that talks to systemd (libsystemd's sd_notify,
// sd_listen_fds_with_names, sd_watchdog_enabled). Tells systemd READY, RELOADING, STOPPING, STATUS and
// WATCHDOG; hands over socket-activated listeners. Without NOTIFY_SOCKET every notification is a no-op.
internal import CSluiceSystemd
import Glibc
import SluiceCore

/// sd_notify messages and socket activation. Loop-thread only.
final class ServiceNotifier {
    /// True when NOTIFY_SOCKET was set at start (sd_notify has somewhere to send).
    let isEnabled: Bool
    /// WATCHDOG_USEC (when WATCHDOG_PID is ours or unset), in microseconds; nil without a watchdog.
    let watchdogMicroseconds: UInt64?
    private var lastStatus = ""
    /// With `chroot`, a datagram socket connected to NOTIFY_SOCKET before the chroot: libsystemd's sd_notify
    /// opens the socket by path on every call, which the chrooted process can no longer reach.
    private var connectedSocket = FD.invalid

    /// `preconnect`: connect to NOTIFY_SOCKET now (the process is about to chroot).
    init(preconnect: Bool = false) {
        let path = getenvString("NOTIFY_SOCKET")
        isEnabled = path != nil
        var usec: UInt64 = 0
        watchdogMicroseconds = csluice_sd_watchdog_enabled(0, &usec) > 0 && usec > 0 ? usec : nil
        if preconnect, let path, let fd = try? Sys.socket(domain: AF_UNIX, type: Sys.datagramSocket) {
            // An abstract socket ("@name") has a leading NUL instead of '@'.
            let target = path.hasPrefix("@") ? "\0" + path.dropFirst() : path
            if case .connected = Sys.connect(fd, toUnixPath: target) {
                connectedSocket = fd
            } else {
                Sys.close(fd)
            }
        }
    }

    /// `READY=1` plus a status line: every listener is bound and the loop runs (also after each reload).
    func ready(status: String) {
        lastStatus = status
        send("READY=1\nSTATUS=\(status)\nMAINPID=\(Sys.getpid())")
    }

    /// `RELOADING=1` with the CLOCK_MONOTONIC time the reload started, as systemd expects.
    func reloading() {
        let usec = Sys.monotonicNanoseconds() / 1000
        send("RELOADING=1\nMONOTONIC_USEC=\(usec)")
    }

    /// `STOPPING=1`.
    func stopping() {
        send("STOPPING=1")
    }

    /// `STATUS=...`, sent only when the text changed.
    func status(_ text: String) {
        guard text != lastStatus else { return }
        lastStatus = text
        send("STATUS=\(text)")
    }

    /// `WATCHDOG=1`: the loop is alive. Sent from a loop timer so a stuck loop stops sending it.
    func watchdog() {
        send("WATCHDOG=1")
    }

    private func send(_ message: String) {
        guard isEnabled else { return }
        if connectedSocket.isValid {
            var text = message
            text.withUTF8 { _ = Sys.send(connectedSocket, from: UnsafeRawBufferPointer($0)) }
            return
        }
        _ = csluice_sd_notify(0, message)
    }

    /// Sockets passed by systemd (LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES), once, at start. The environment
    /// variables are removed so that nothing inherits them by mistake.
    static func takeActivatedSockets() -> [(fd: FD, name: String)] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        let count = csluice_sd_listen_fds_with_names(1, &names)
        guard count > 0 else { return [] }
        let first = csluice_sd_listen_fds_start()
        var result: [(FD, String)] = []
        for i in 0..<Int(count) {
            var name = ""
            if let names, let p = names[i] {
                name = String(cString: p)
                csluice_free(p)
            }
            result.append((FD(first + Int32(i)), name))
        }
        if let names { csluice_free(names) }
        return result
    }
}

/// getenv as a Swift String.
func getenvString(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}
