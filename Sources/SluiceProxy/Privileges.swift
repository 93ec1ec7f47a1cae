// SPDX-License-Identifier: Apache-2.0
// Privileges: after every listener is bound, `chroot`, then `group`/`gid` and `user`/`uid` from the global
// section, keeping only CAP_NET_BIND_SERVICE so that a reload can still bind ports below 1024. Runs once, before
// the loop. Started as an unprivileged user, sluice only checks that it already is the requested user.
import CSluiceSys
import Glibc
import SluiceConfig
import SluiceCore

enum Privileges {
    /// Applies chroot/gid/uid. Returns an error message when something the configuration asks for cannot be done
    /// (the daemon must not run with more rights than it was told to keep).
    static func drop(_ global: GlobalSettings) -> String? {
        let isRoot = geteuid() == 0
        if let dir = global.chroot {
            guard isRoot else { return "cannot chroot to '\(dir)': not started as root" }
            if chdir(dir) != 0 || chroot(".") != 0 {
                return "cannot chroot to '\(dir)': \(Errno(rawValue: Sys.errno))"
            }
        }
        if let gid = global.gid, gid != getegid() {
            guard isRoot else { return "cannot switch to group id \(gid): not started as root" }
            var groups = [gid_t(gid)]
            if setgroups(1, &groups) != 0 || setgid(gid_t(gid)) != 0 {
                return "cannot switch to group id \(gid): \(Errno(rawValue: Sys.errno))"
            }
        }
        if let uid = global.uid, uid != geteuid() {
            guard isRoot else { return "cannot switch to user id \(uid): not started as root" }
            // Keep the permitted set across setuid, then shrink it to CAP_NET_BIND_SERVICE alone.
            if csluice_prctl_keepcaps(1) != 0 || setuid(uid_t(uid)) != 0 {
                return "cannot switch to user id \(uid): \(Errno(rawValue: Sys.errno))"
            }
            if csluice_capset_net_bind_service_only() != 0 {
                return "cannot keep CAP_NET_BIND_SERVICE after switching to user id \(uid): \(Errno(rawValue: Sys.errno))"
            }
            _ = csluice_prctl_keepcaps(0)
        }
        return nil
    }
}
