// SPDX-License-Identifier: Apache-2.0
// alloc_count: an LD_PRELOAD library that counts heap allocations (malloc, calloc, realloc, aligned variants)
// of the process it is loaded into. The count lives in a file mapped in memory (ALLOC_COUNT_FILE), so a
// benchmark reads it at any moment without signalling the process. Built by bench/alloc.sh; not part of sluice.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile uint64_t *counter;
static volatile uint64_t fallback;

__attribute__((constructor)) static void alloc_count_init(void) {
    counter = &fallback;
    const char *path = getenv("ALLOC_COUNT_FILE");
    if (!path) return;
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) return;
    if (ftruncate(fd, 4096) == 0) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED) counter = (volatile uint64_t *)p;
    }
    close(fd);
}

#define COUNT() __atomic_add_fetch(counter ? counter : &fallback, 1, __ATOMIC_RELAXED)

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

void *malloc(size_t n) { COUNT(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { COUNT(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { COUNT(); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { COUNT(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { COUNT(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    COUNT();
    void *p = __libc_memalign(a, n);
    if (!p) return 12;
    *out = p;
    return 0;
}
