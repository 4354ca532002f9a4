#include "base/atomic_file.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "base/error.hpp"

namespace strata {

void write_all(int fd, const void* data, size_t n, std::string_view what) {
    auto* p = static_cast<const char*>(data);
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw system_error("write", what);
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
}

void fsync_dir(const std::filesystem::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw system_error("open", dir.string());
    if (::fsync(fd.get()) != 0) throw system_error("fsync", dir.string());
}

AtomicFile::AtomicFile(std::filesystem::path target, mode_t mode) : target_(std::move(target)) {
    auto dir = target_.parent_path();
    if (dir.empty()) dir = ".";
    // Built by appending: `"." + name` (operator+ with the literal first)
    // makes GCC 12 at -O2/-O3 report a false -Wrestrict overlap in the
    // inlined insert at position 0.
    std::string name = ".";
    name += target_.filename().native();
    name += ".tmpXXXXXX";
    std::string tmpl = (dir / name).native();
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) throw system_error("create temp file", tmpl);
    fd_.reset(fd);
    temp_ = tmpl;
    if (::fchmod(fd, mode) != 0) {
        int err = errno;
        ::unlink(temp_.c_str());
        throw system_error("chmod", temp_.string(), err);
    }
}

AtomicFile::~AtomicFile() {
    if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
}

void AtomicFile::write(std::string_view data) {
    write(data.data(), data.size());
}

void AtomicFile::write(const void* data, size_t n) {
    synced_ = false;
    write_all(fd_.get(), data, n, temp_.string());
}

void AtomicFile::sync() {
    if (committed_)
        throw Error(ErrorKind::kInternal, "AtomicFile synced after commit: " + target_.string());
    if (::fsync(fd_.get()) != 0) throw system_error("fsync", temp_.string());
    synced_ = true;
}

// Over an existing regular file the names are exchanged and the old file
// (now under the temp name) removed, instead of a rename over it: ext4
// (auto_da_alloc) starts writing a file's data out when it is renamed over
// another, which cost ~0.1 ms per cache entry or summary here (48 µs for
// exchange and unlink, 148 µs for the rename). Readers still see the old file
// or the new one; what a crash leaves is as loose as for the rename (these
// files are hints). Anything else (no target, a directory, a filesystem
// without RENAME_EXCHANGE) takes the rename and its errors.
void AtomicFile::commit_unsynced() {
    if (committed_)
        throw Error(ErrorKind::kInternal, "AtomicFile committed twice: " + target_.string());
    fd_.reset();
    struct stat st {};
    if (::lstat(target_.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, target_.c_str(), RENAME_EXCHANGE) == 0) {
        committed_ = true;
        ::unlink(temp_.c_str());  // the old file; left behind only if this fails
        return;
    }
    if (::rename(temp_.c_str(), target_.c_str()) != 0)
        throw system_error("rename", target_.string());
    committed_ = true;
}

void AtomicFile::commit_deferring_dir_sync() {
    if (committed_)
        throw Error(ErrorKind::kInternal, "AtomicFile committed twice: " + target_.string());
    if (!synced_) sync();
    fd_.reset();
    if (::rename(temp_.c_str(), target_.c_str()) != 0)
        throw system_error("rename", target_.string());
    committed_ = true;
}

void AtomicFile::commit() {
    commit_deferring_dir_sync();
    auto dir = target_.parent_path();
    fsync_dir(dir.empty() ? std::filesystem::path(".") : dir);
}

void write_file_atomic(const std::filesystem::path& path, std::string_view data, mode_t mode) {
    AtomicFile f(path, mode);
    f.write(data);
    f.commit();
}

void write_file_atomic_unsynced(const std::filesystem::path& path, std::string_view data,
                                mode_t mode) {
    AtomicFile f(path, mode);
    f.write(data);
    f.commit_unsynced();
}

}  // namespace strata
