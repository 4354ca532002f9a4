#include "cache/filesystem.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace strata::cache {
namespace {

constexpr size_t kReadChunk = 128 * 1024;

int64_t to_ns(const struct timespec& ts) {
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void fill(const struct stat& s, FileStat& st) {
    st.dev = s.st_dev;
    st.ino = s.st_ino;
    st.size = static_cast<uint64_t>(s.st_size);
    st.rdev = s.st_rdev;
    st.mtime_ns = to_ns(s.st_mtim);
    st.ctime_ns = to_ns(s.st_ctim);
    st.mode = s.st_mode;
    st.uid = s.st_uid;
    st.gid = s.st_gid;
    st.nlink = static_cast<uint32_t>(s.st_nlink);
}

std::string join(const std::string& dir, std::string_view name) {
    std::string p = dir;
    if (p.empty() || p.back() != '/') p += '/';
    p += name;
    return p;
}

class RealDirectory final : public Directory {
  public:
    RealDirectory(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

    void list(std::string& names) override {
        // getdents64 straight into a stack buffer: no DIR allocation, no copy
        // of the names beyond the one into `names`.
        alignas(8) char buf[32 * 1024];
        if (listed_ && ::lseek(fd_.get(), 0, SEEK_SET) < 0) throw system_error("seek", path_);
        listed_ = true;
        for (;;) {
            ssize_t n = ::getdents64(fd_.get(), buf, sizeof buf);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw system_error("read directory", path_);
            }
            if (n == 0) break;
            for (ssize_t off = 0; off < n;) {
                auto* d = reinterpret_cast<struct dirent64*>(buf + off);
                off += d->d_reclen;
                const char* nm = d->d_name;
                if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0))) continue;
                names.append(nm, std::strlen(nm) + 1);  // with its '\0'
            }
        }
    }

    void stat_self(FileStat& st) override {
        struct stat s;
        if (::fstat(fd_.get(), &s) != 0) throw system_error("stat", path_);
        fill(s, st);
    }

    bool stat(const char* name, FileStat& st) override {
        struct stat s;
        if (::fstatat(fd_.get(), name, &s, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) return false;
            throw system_error("stat", join(path_, name));
        }
        fill(s, st);
        return true;
    }

    std::unique_ptr<Directory> open_dir(const char* name) override {
        int fd = ::openat(fd_.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) return nullptr;
            throw system_error("open directory", join(path_, name));
        }
        return std::make_unique<RealDirectory>(UniqueFd(fd), join(path_, name));
    }

    std::string read_link(const char* name) override {
        std::string target(256, '\0');
        for (;;) {
            ssize_t n = ::readlinkat(fd_.get(), name, target.data(), target.size());
            if (n < 0) throw system_error("readlink", join(path_, name));
            if (static_cast<size_t>(n) < target.size()) {
                target.resize(static_cast<size_t>(n));
                return target;
            }
            target.resize(target.size() * 2);  // possibly truncated: retry larger
        }
    }

    bool read_file(const char* name, FileStat& st, ByteSink& sink) override {
        // O_NONBLOCK: should the entry have been replaced by a fifo since it
        // was listed, open must not wait for a writer.
        UniqueFd fd(
            ::openat(fd_.get(), name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
        if (!fd) {
            if (errno == ENOENT) return false;
            throw system_error("open", join(path_, name));
        }
        struct stat s;
        if (::fstat(fd.get(), &s) != 0) throw system_error("stat", join(path_, name));
        if (!S_ISREG(s.st_mode))
            throw Error(ErrorKind::kSystem, "'" + join(path_, name) +
                                                "' changed while the build context was read: "
                                                "it is no longer a regular file");
        fill(s, st);
        thread_local std::unique_ptr<char[]> buf(new char[kReadChunk]);
        uint64_t total = 0;
        for (;;) {
            ssize_t n = ::read(fd.get(), buf.get(), kReadChunk);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw system_error("read", join(path_, name));
            }
            if (n == 0) break;
            sink.write(buf.get(), static_cast<size_t>(n));
            total += static_cast<uint64_t>(n);
            // A short read that reaches the size fstat gave is the end: skip
            // the extra read(2) that would return 0. (A file growing right
            // now gets a new mtime, so it is not trusted from the cache.)
            if (static_cast<size_t>(n) < kReadChunk && total >= st.size) break;
        }
        return true;
    }

    const std::string& path() const override { return path_; }

  private:
    UniqueFd fd_;
    std::string path_;
    bool listed_ = false;  // a fresh fd reads from the start: no lseek needed
};

}  // namespace

std::unique_ptr<Directory> RealFilesystem::open_root(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw system_error("open build context", path);
    return std::make_unique<RealDirectory>(std::move(fd), path);
}

int64_t RealFilesystem::now_ns() {
    // The kernel stamps files from the coarse clock (or, with multigrain
    // timestamps, from something not older than it), so a coarse reading
    // taken now is never newer than a later modification's timestamp.
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return to_ns(ts);
}

}  // namespace strata::cache
