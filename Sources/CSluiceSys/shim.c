// SPDX-License-Identifier: Apache-2.0
// CSluiceSys out-of-line glue: only what needs _GNU_SOURCE, which the header must not define (see there).
#define _GNU_SOURCE
#include <sys/socket.h>
#include "CSluiceSys.h"

int csluice_accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags) {
    return accept4(sockfd, addr, addrlen, flags);
}
