#include "base/lock_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.hpp"

namespace strata {

std::optional<LockFile> LockFile::acquire(const std::filesystem::path& path, int operation) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) throw system_error("open lock file", path.string());
    while (::flock(fd.get(), operation) != 0) {
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK && (operation & LOCK_NB)) return std::nullopt;
        throw system_error("flock", path.string());
    }
    return LockFile(path, std::move(fd));
}

LockFile LockFile::exclusive(const std::filesystem::path& path) {
    return *acquire(path, LOCK_EX);
}

LockFile LockFile::shared(const std::filesystem::path& path) {
    return *acquire(path, LOCK_SH);
}

std::optional<LockFile> LockFile::try_exclusive(const std::filesystem::path& path) {
    return acquire(path, LOCK_EX | LOCK_NB);
}

}  // namespace strata
