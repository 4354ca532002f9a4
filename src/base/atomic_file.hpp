// Atomic file replacement: the data goes to a temp file in the target's
// directory (same filesystem), is fsynced, renamed over the target, and the
// directory is fsynced. A reader sees the old file or the new one, never a
// partial one; a crash leaves at most a stray temp file `.<name>.tmpXXXXXX`.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>

#include "base/unique_fd.hpp"

namespace strata {

void write_file_atomic(const std::filesystem::path& path, std::string_view data,
                       mode_t mode = 0644);
// The same replace without either fsync (over an existing file: the names
// exchanged and the old file removed, see commit_unsynced), for files that
// are only hints (cache entries, build summaries): a reader still never sees
// a partial file while the system runs, but after a crash the file may be
// missing, old, empty or cut short, and its readers must take that as "none".
void write_file_atomic_unsynced(const std::filesystem::path& path, std::string_view data,
                                mode_t mode = 0644);

class AtomicFile {
  public:
    explicit AtomicFile(std::filesystem::path target, mode_t mode = 0644);
    AtomicFile(AtomicFile&&) noexcept = default;
    AtomicFile& operator=(AtomicFile&&) = delete;
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    // Without commit() the temp file is removed.
    ~AtomicFile();

    int fd() const { return fd_.get(); }
    const std::filesystem::path& target() const { return target_; }
    const std::filesystem::path& temp_path() const { return temp_; }
    void write(std::string_view data);
    void write(const void* data, size_t n);
    // fsync now (commit then skips its own unless more was written): lets
    // several files' fsyncs run at once before their renames are ordered.
    void sync();
    // fsync, rename over the target, fsync the directory.
    void commit();
    // fsync and rename; the caller fsyncs the directory (fsync_dir) before
    // anything that depends on the rename, once for several files.
    void commit_deferring_dir_sync();
    // Into place with no fsync (see write_file_atomic_unsynced).
    void commit_unsynced();

  private:
    std::filesystem::path target_;
    std::filesystem::path temp_;
    UniqueFd fd_;
    bool committed_ = false;
    bool synced_ = false;  // fsynced since the last write
};

// fsync the directory `dir` (after a rename or unlink in it).
void fsync_dir(const std::filesystem::path& dir);
// write(2) all of `data` to `fd`, retrying on EINTR and short writes; `what`
// names the file in the error.
void write_all(int fd, const void* data, size_t n, std::string_view what);

}  // namespace strata
