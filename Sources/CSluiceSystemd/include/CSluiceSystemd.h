// SPDX-License-Identifier: Apache-2.0
// CSluiceSystemd: libsystemd's sd-daemon API (Debian's libsystemd-dev, version 252): sd_notify for Type=notify,
// sd_listen_fds for socket activation, sd_watchdog_enabled. No logic here.
#ifndef CSLUICE_SYSTEMD_H
#define CSLUICE_SYSTEMD_H

#include <systemd/sd-daemon.h>

static inline int csluice_sd_notify(int unset_environment, const char *state) {
    return sd_notify(unset_environment, state);
}
static inline int csluice_sd_listen_fds_start(void) { return SD_LISTEN_FDS_START; }

#endif
