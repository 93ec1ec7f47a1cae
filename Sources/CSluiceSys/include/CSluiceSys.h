// SPDX-License-Identifier: Apache-2.0
// CSluiceSys: the Linux headers Glibc's Swift module does not export (epoll, signalfd, eventfd), accept4 (a
// GNU extension), plus one-line static inline wrappers where a macro or a union stands in Swift's way.
// No logic lives here: every function is a direct call or a field access.
// _GNU_SOURCE is NOT defined in this header: defining it here changes struct and enum definitions that Glibc's
// Swift module also imports (fd_set, __rusage_who) and clang refuses the mismatch. The one GNU function we
// need, accept4, is declared here and defined in shim.c, which is compiled with _GNU_SOURCE (as SwiftNIO's
// CNIOLinux does).
#ifndef CSLUICE_SYS_H
#define CSLUICE_SYS_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

/// accept4(2) (GNU): defined in shim.c.
int csluice_accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);

/// prctl(PR_SET_KEEPCAPS, on): prctl is variadic, which Swift cannot call.
int csluice_prctl_keepcaps(int on);

/// capset(2) leaving exactly CAP_NET_BIND_SERVICE effective, permitted and inheritable (after dropping root,
/// so that a reload can still bind ports below 1024). glibc has no capset wrapper; the raw syscall is used.
int csluice_capset_net_bind_service_only(void);

// epoll_event is packed on x86_64 (12 bytes); Swift imports it, but the union member needs a helper.
_Static_assert(sizeof(struct epoll_event) == 12 || sizeof(struct epoll_event) == 16, "unexpected epoll_event size");

static inline uint64_t csluice_epoll_event_data(const struct epoll_event *ev) { return ev->data.u64; }
static inline uint32_t csluice_epoll_event_events(const struct epoll_event *ev) { return ev->events; }

static inline int csluice_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}

static inline int csluice_errno(void) { return errno; }
static inline void csluice_set_errno(int value) { errno = value; }

// sigset_t manipulation is macro-based in some libcs; keep the calls here.
static inline int csluice_sigemptyset(sigset_t *set) { return sigemptyset(set); }
static inline int csluice_sigaddset(sigset_t *set, int signo) { return sigaddset(set, signo); }

#endif
