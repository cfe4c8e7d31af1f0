#ifndef _GNU_SOURCE
#define _GNU_SOURCE  // syncfs
#endif
#include <errno.h>
#include <stdio.h>
#include <sys/utsname.h>
#if defined(__linux__)
#include <sys/vfs.h>
#endif
#include <unistd.h>
#include "CFileSync.h"

#if defined(__linux__)
// syncfs reports write-back errors since Linux 5.8 (commit 735e4ae5ba28, "vfs: track per-sb
// writeback errors and report them to syncfs"); before that it returned 0 regardless.
static int kernel_reports_syncfs_errors(void) {
    static int answer = -1;  // every thread computes the same value; atomics keep the race defined
    int known = __atomic_load_n(&answer, __ATOMIC_RELAXED);
    if (known < 0) {
        struct utsname name;
        int major = 0, minor = 0;
        known = uname(&name) == 0 && sscanf(name.release, "%d.%d", &major, &minor) == 2 &&
                (major > 5 || (major == 5 && minor >= 8));
        __atomic_store_n(&answer, known, __ATOMIC_RELAXED);
    }
    return known;
}

// FUSE's syncfs returns without asking the file system's server to persist anything, where
// fsync would.
#define FUSE_SUPER_MAGIC 0x65735546
static int is_fuse(int fd) {
    struct statfs info;
    return fstatfs(fd, &info) == 0 && info.f_type == FUSE_SUPER_MAGIC;
}
#endif

int cfilesync_flush_file_system(int fd) {
#if defined(__linux__)
    if (!kernel_reports_syncfs_errors() || is_fuse(fd)) {
        errno = ENOSYS;
        return -1;
    }
    int result;
    do { result = syncfs(fd); } while (result != 0 && errno == EINTR);
    return result;
#else
    (void)fd;
    errno = ENOSYS;
    return -1;
#endif
}
