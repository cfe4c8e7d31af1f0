#ifndef C_FILE_SYNC_H
#define C_FILE_SYNC_H
// Linux's sync_file_range, which Swift's Glibc module does not expose (it is declared only
// under _GNU_SOURCE). AtomicFiles uses it to start writing a file's bytes to disk as soon as
// they are written, so that the flush before the rename finds them on their way.

/// Starts writeback of every dirty page of `fd` without waiting for it. Returns 0, or -1 with
/// errno set. A hint only: errors also surface at the later fsync/fdatasync. Does nothing and
/// returns 0 where sync_file_range does not exist.
int cfilesync_start_writeback(int fd);

#endif
