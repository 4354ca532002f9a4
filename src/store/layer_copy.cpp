#include "store/layer_copy.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace strata::store {

namespace {

class TreeLinker {
  public:
    explicit TreeLinker(bool same_owner) : same_owner_(same_owner) {}

    // Links or copies the contents of directory `src` into `dst`, then gives
    // `dst` the metadata `st` of `src` (`where` names it in errors).
    void dir(int src, int dst, const struct stat& st, const std::string& where) {
        ++stats.dirs;
        UniqueFd list_fd(::dup(src));
        if (!list_fd) throw system_error("dup", where);
        DIR* d = ::fdopendir(list_fd.get());
        if (!d) throw system_error("opendir", where);
        list_fd.release();
        struct Closer {
            DIR* d;
            ~Closer() { ::closedir(d); }
        } closer{d};
        for (errno = 0; const dirent* e = ::readdir(d); errno = 0) {
            const std::string name = e->d_name;
            if (name == "." || name == "..") continue;
            const std::string path = where + "/" + name;
            if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) {
                entry(src, dst, name, path);
                continue;
            }
            struct stat cst {};
            if (::fstatat(src, name.c_str(), &cst, AT_SYMLINK_NOFOLLOW) != 0)
                throw system_error("stat", path);
            if (!S_ISDIR(cst.st_mode)) {
                entry(src, dst, name, path);
                continue;
            }
            if (::mkdirat(dst, name.c_str(), 0700) != 0)
                throw system_error("mkdir", path + " (copy)");
            UniqueFd csrc(
                ::openat(src, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!csrc) throw system_error("open", path);
            UniqueFd cdst(
                ::openat(dst, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!cdst) throw system_error("open", path + " (copy)");
            dir(csrc.get(), cdst.get(), cst, path);
        }
        if (errno != 0) throw system_error("readdir", where);
        // Last: adding entries changed dst's mtime; chown clears set-id bits.
        set_meta(src, dst, st, where);
    }

    LinkTreeStats stats;

  private:
    // A non-directory: a hard link, or a copy when the inode has too many.
    void entry(int src, int dst, const std::string& name, const std::string& path) {
        if (::linkat(src, name.c_str(), dst, name.c_str(), 0) == 0) {
            ++stats.linked;
            return;
        }
        if (errno != EMLINK) throw system_error("link", path);
        struct stat st {};
        if (::fstatat(src, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw system_error("stat", path);
        ++stats.copied;
        if (S_ISREG(st.st_mode)) {
            copy_file(src, dst, name, st, path);
            return;
        }
        if (S_ISLNK(st.st_mode)) {
            std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
            const ssize_t n = ::readlinkat(src, name.c_str(), target.data(), target.size());
            if (n < 0) throw system_error("readlink", path);
            target.resize(static_cast<size_t>(n));
            if (::symlinkat(target.c_str(), dst, name.c_str()) != 0)
                throw system_error("symlink", path);
        } else if (::mknodat(dst, name.c_str(), st.st_mode, st.st_rdev) != 0) {
            throw system_error("mknod", path);
        }
        if (same_owner_ &&
            ::fchownat(dst, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0)
            throw system_error("chown", path);
        if (!S_ISLNK(st.st_mode) && ::fchmodat(dst, name.c_str(), st.st_mode & 07777, 0) != 0)
            throw system_error("chmod", path);
        const struct timespec times[2] = {st.st_atim, st.st_mtim};
        if (::utimensat(dst, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
            throw system_error("set times of", path);
    }

    void copy_file(int src, int dst, const std::string& name, const struct stat& st,
                   const std::string& path) {
        UniqueFd in(::openat(src, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!in) throw system_error("open", path);
        UniqueFd out(::openat(dst, name.c_str(),
                              O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!out) throw system_error("create", path + " (copy)");
        if (::ioctl(out.get(), FICLONE, in.get()) != 0) {
            for (;;) {
                const ssize_t n =
                    ::copy_file_range(in.get(), nullptr, out.get(), nullptr, 1 << 30, 0);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) throw system_error("copy_file_range", path);
                if (n == 0) break;
            }
        }
        set_meta(in.get(), out.get(), st, path);
    }

    // Owner, xattrs, mode, times of `st`/`src` onto `dst`, in the order that
    // keeps them all (chown drops set-id bits and security.capability).
    void set_meta(int src, int dst, const struct stat& st, const std::string& path) {
        if (same_owner_ && ::fchown(dst, st.st_uid, st.st_gid) != 0)
            throw system_error("chown", path);
        copy_xattrs(src, dst, path);
        if (::fchmod(dst, st.st_mode & 07777) != 0) throw system_error("chmod", path);
        const struct timespec times[2] = {st.st_atim, st.st_mtim};
        if (::futimens(dst, times) != 0) throw system_error("set times of", path);
    }

    // Every xattr (the opaque marker above all): the original was written by
    // this process's privileges, so the copy can be too.
    static void copy_xattrs(int src, int dst, const std::string& path) {
        ssize_t len = ::flistxattr(src, nullptr, 0);
        if (len < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP)) return;
        if (len < 0) throw system_error("listxattr", path);
        if (len == 0) return;
        std::string names(static_cast<size_t>(len), '\0');
        len = ::flistxattr(src, names.data(), names.size());
        if (len < 0) throw system_error("listxattr", path);
        names.resize(static_cast<size_t>(len));
        for (size_t i = 0; i < names.size();) {
            const std::string xname(names.c_str() + i);
            i += xname.size() + 1;
            ssize_t vlen = ::fgetxattr(src, xname.c_str(), nullptr, 0);
            if (vlen < 0) throw system_error("getxattr " + xname, path);
            std::string value(static_cast<size_t>(vlen), '\0');
            vlen = ::fgetxattr(src, xname.c_str(), value.data(), value.size());
            if (vlen < 0) throw system_error("getxattr " + xname, path);
            if (::fsetxattr(dst, xname.c_str(), value.data(), static_cast<size_t>(vlen), 0) != 0)
                throw system_error("setxattr " + xname, path + " (copy)");
        }
    }

    bool same_owner_;
};

}  // namespace

LinkTreeStats link_layer_tree(const std::filesystem::path& from, const std::filesystem::path& to,
                              bool same_owner) {
    UniqueFd src(::open(from.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!src) throw system_error("open", from.string());
    UniqueFd dst(::open(to.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dst) throw system_error("open", to.string());
    struct stat st {};
    if (::fstat(src.get(), &st) != 0) throw system_error("stat", from.string());
    TreeLinker linker(same_owner);
    linker.dir(src.get(), dst.get(), st, from.string());
    return linker.stats;
}

namespace {

// Every xattr of `path` (not following a symlink), name → value.
std::map<std::string, std::string> xattrs_of(const std::filesystem::path& path) {
    std::map<std::string, std::string> out;
    ssize_t len = ::llistxattr(path.c_str(), nullptr, 0);
    if (len <= 0) return out;
    std::string names(static_cast<size_t>(len), '\0');
    len = ::llistxattr(path.c_str(), names.data(), names.size());
    if (len <= 0) return out;
    names.resize(static_cast<size_t>(len));
    for (size_t i = 0; i < names.size();) {
        const std::string name(names.c_str() + i);
        i += name.size() + 1;
        ssize_t vlen = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
        if (vlen < 0) continue;
        std::string value(static_cast<size_t>(vlen), '\0');
        vlen = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
        if (vlen >= 0) out[name] = value.substr(0, static_cast<size_t>(vlen));
    }
    return out;
}

// Relative path → lstat of every entry under `dir` ("" is `dir` itself).
std::map<std::string, struct stat> entries_of(const std::filesystem::path& dir) {
    std::map<std::string, struct stat> out;
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) throw system_error("stat", dir.string());
    out[""] = st;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (::lstat(it->path().c_str(), &st) != 0) throw system_error("stat", it->path().string());
        out[it->path().lexically_relative(dir).string()] = st;
    }
    if (ec) throw system_error("list", dir.string(), ec.value());
    return out;
}

}  // namespace

std::string compare_layer_tree(const std::filesystem::path& from, const std::filesystem::path& to) {
    const auto a = entries_of(from);
    const auto b = entries_of(to);
    for (const auto& [rel, sa] : a) {
        const std::string shown = "/" + rel;
        auto it = b.find(rel);
        if (it == b.end()) return shown + " is missing";
        const struct stat& sb = it->second;
        if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT)) return shown + " has another type";
        if (!S_ISDIR(sa.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino) continue;
        if (sa.st_mode != sb.st_mode || sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid)
            return shown + " has another mode or owner";
        if (S_ISREG(sa.st_mode) && sa.st_size != sb.st_size) return shown + " has another size";
        if (S_ISDIR(sa.st_mode) && xattrs_of(from / rel) != xattrs_of(to / rel))
            return shown + " has other xattrs";
    }
    for (const auto& [rel, sb] : b)
        if (!a.count(rel)) return "/" + rel + " is extra";
    return {};
}

}  // namespace strata::store
