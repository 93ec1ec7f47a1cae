// SPDX-License-Identifier: Apache-2.0
// CSluiceSystemd: libsystemd's sd-daemon API (Debian's libsystemd-dev, version 252): sd_notify for Type=notify,
// sd_listen_fds_with_names for socket activation, sd_watchdog_enabled. No logic here.
#ifndef CSLUICE_SYSTEMD_H
#define CSLUICE_SYSTEMD_H

#include <stdint.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

static inline int csluice_sd_notify(int unset_environment, const char *state) {
    return sd_notify(unset_environment, state);
}
static inline int csluice_sd_listen_fds_start(void) { return SD_LISTEN_FDS_START; }
static inline int csluice_sd_listen_fds_with_names(int unset_environment, char ***names) {
    return sd_listen_fds_with_names(unset_environment, names);
}
static inline int csluice_sd_watchdog_enabled(int unset_environment, uint64_t *usec) {
    return sd_watchdog_enabled(unset_environment, usec);
}
static inline void csluice_free(void *p) { free(p); }

#endif
