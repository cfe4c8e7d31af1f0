#ifndef C_FILE_SYNC_H
#define C_FILE_SYNC_H
// Linux's syncfs, which Swift's Glibc module does not expose (glibc declares it only under
// _GNU_SOURCE). AtomicFiles uses it to make many finished files durable with one flush of
// their file system instead of one fdatasync each.

/// Flushes every dirty file and inode of the file system holding `fd` to disk, and the disk's
/// cache, and waits. Returns 0, or -1 with errno set: the write-back error, or ENOSYS where
/// syncfs does not exist or cannot be trusted (Linux before 5.8 returned 0 even when write-back
/// failed; FUSE's persists nothing), in which case the caller must flush each file itself.
int cfilesync_flush_file_system(int fd);

#endif
