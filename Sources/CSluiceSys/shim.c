// SPDX-License-Identifier: Apache-2.0
// CSluiceSys out-of-line glue: only what needs _GNU_SOURCE, which the header must not define (see there).
#define _GNU_SOURCE
#include <sys/socket.h>
#include "CSluiceSys.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int csluice_accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags) {
    return accept4(sockfd, addr, addrlen, flags);
}

int csluice_prctl_keepcaps(int on) {
    return prctl(PR_SET_KEEPCAPS, on, 0, 0, 0);
}

int csluice_capset_net_bind_service_only(void) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
    data[0].effective = data[0].permitted = data[0].inheritable = 1u << CAP_NET_BIND_SERVICE;
    return (int)syscall(SYS_capset, &header, data);
}
