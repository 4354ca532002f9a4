// LockFile — an flock(2) lock on a file (created if missing), held until the
// object is destroyed. Locks are per open file description, so two LockFile
// objects in one process exclude each other like two processes do.
#pragma once

#include <filesystem>
#include <optional>

#include "base/unique_fd.hpp"

namespace strata {

class LockFile {
  public:
    // Block until the lock is acquired.
    static LockFile exclusive(const std::filesystem::path& path);
    static LockFile shared(const std::filesystem::path& path);
    // Non-blocking: nullopt when someone else holds a conflicting lock.
    static std::optional<LockFile> try_exclusive(const std::filesystem::path& path);

    LockFile(LockFile&&) noexcept = default;
    LockFile& operator=(LockFile&&) noexcept = default;
    ~LockFile() = default;  // closing the fd releases the lock

    const std::filesystem::path& path() const { return path_; }

  private:
    LockFile(std::filesystem::path path, UniqueFd fd)
        : path_(std::move(path)), fd_(std::move(fd)) {}
    static std::optional<LockFile> acquire(const std::filesystem::path& path, int operation);
    std::filesystem::path path_;
    UniqueFd fd_;
};

}  // namespace strata
