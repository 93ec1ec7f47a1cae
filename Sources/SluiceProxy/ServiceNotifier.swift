// SPDX-License-Identifier: Apache-2.0
// ServiceNotifier: the service-manager seam. Tells systemd (Type=notify, through libsystemd's sd_notify) that
// sluice is ready, stopping, or what its status is. Without NOTIFY_SOCKET every call is a no-op.
internal import CSluiceSystemd
import Glibc
import SluiceCore

/// sd_notify messages. Loop-thread only.
final class ServiceNotifier {
    /// True when NOTIFY_SOCKET was set at start (sd_notify has somewhere to send).
    let isEnabled: Bool

    init() {
        isEnabled = getenvString("NOTIFY_SOCKET") != nil
    }

    /// `READY=1` plus a status line: every listener is bound and the loop is about to run.
    func ready(status: String) {
        send("READY=1\nSTATUS=\(status)\nMAINPID=\(Sys.getpid())")
    }

    /// `STOPPING=1`.
    func stopping() {
        send("STOPPING=1")
    }

    /// `STATUS=...`.
    func status(_ text: String) {
        send("STATUS=\(text)")
    }

    private func send(_ message: String) {
        guard isEnabled else { return }
        _ = csluice_sd_notify(0, message)
    }
}

/// getenv as a Swift String.
func getenvString(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}
