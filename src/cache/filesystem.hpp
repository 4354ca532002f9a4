// The seam between the context hasher and the disk (ninja's DiskInterface):
// the walker and the stat cache see files only through these classes, so
// tests run on an in-memory tree (memory_filesystem.hpp) that counts every
// stat and read.
//
// Directories are handles relative to which names are looked up (openat,
// fstatat, readlinkat): no path is resolved twice on the hot path, and no
// symlink is ever followed below the root.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace strata::cache {

// What lstat says about an entry.
struct FileStat {
    uint64_t dev = 0;
    uint64_t ino = 0;
    uint64_t size = 0;
    uint64_t rdev = 0;
    int64_t mtime_ns = 0;  // since the epoch
    int64_t ctime_ns = 0;
    uint32_t mode = 0;  // full st_mode: S_IFMT bits | 07777
    uint32_t uid = 0;
    uint32_t gid = 0;
    uint32_t nlink = 1;
};

// Receives a file's content, chunk by chunk.
class ByteSink {
  public:
    virtual void write(const void* data, size_t size) = 0;

  protected:
    ~ByteSink() = default;
};

class Directory {
  public:
    virtual ~Directory() = default;

    // Appends the name of every entry except "." and "..", each followed by
    // a '\0', in no particular order. One buffer, no allocation per name.
    virtual void list(std::string& names) = 0;

    // fstat of the directory itself.
    virtual void stat_self(FileStat& st) = 0;

    // lstat of `name` (never follows a symlink). False when the entry no
    // longer exists (it vanished since list()); throws on other errors.
    virtual bool stat(const char* name, FileStat& st) = 0;

    // Opens the subdirectory `name` without following a symlink. Null when
    // it vanished; throws when it is not a directory or cannot be opened.
    virtual std::unique_ptr<Directory> open_dir(const char* name) = 0;

    // The target of the symlink `name`, as stored.
    virtual std::string read_link(const char* name) = 0;

    // Opens the regular file `name` (no symlink following, never blocking on
    // a fifo), stores the stat of the opened file in `st` and streams its
    // content to `sink`. False when it vanished. Throws when it is no longer
    // a regular file or cannot be read.
    virtual bool read_file(const char* name, FileStat& st, ByteSink& sink) = 0;

    // For messages: the directory's path as given to open_root plus the
    // names of the directories opened below it.
    virtual const std::string& path() const = 0;
};

class Filesystem {
  public:
    virtual ~Filesystem() = default;

    // Opens the context root (symlinks in `path` itself are followed).
    virtual std::unique_ptr<Directory> open_root(const std::string& path) = 0;

    // The current time as the filesystem stamps mtime/ctime: a timestamp
    // taken now is not newer than any later modification's.
    virtual int64_t now_ns() = 0;

    // Whether directories may be used from several threads at once.
    virtual bool thread_safe() const { return false; }
};

// The real disk: openat/fstatat/getdents64/readlinkat, CLOCK_REALTIME_COARSE.
class RealFilesystem final : public Filesystem {
  public:
    std::unique_ptr<Directory> open_root(const std::string& path) override;
    int64_t now_ns() override;
    bool thread_safe() const override { return true; }
};

}  // namespace strata::cache
