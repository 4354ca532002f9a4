#include "executor/copy/layer_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <vector>

#include "base/error.hpp"
#include "base/in_root.hpp"
#include "executor/copy/path_parts.hpp"
#include "store/safe_path.hpp"

namespace strata::executor {

namespace {

bool is_layer_xattr(std::string_view name) {
    if (name.starts_with("user.overlay.") || name.starts_with("trusted.overlay.")) return false;
    return name == "security.capability" || name.starts_with("user.");
}

// Whether the descriptor has an xattr copy_layer_xattrs would copy.
bool has_layer_xattrs(int fd) {
    char names[4096];
    ssize_t len = ::flistxattr(fd, names, sizeof names);
    if (len < 0 && errno == ERANGE) return true;  // many: let the copy look
    for (ssize_t i = 0; i < len;) {
        const std::string_view name(names + i);
        if (is_layer_xattr(name)) return true;
        i += static_cast<ssize_t>(name.size()) + 1;
    }
    return false;
}

std::vector<std::string> list_dir_names(int dirfd, const std::string& what) {
    return store::list_dir(dirfd, what);
}

void remove_at(int dirfd, const std::string& name, const std::string& what) {
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return;
        throw system_error("stat", what);
    }
    if (S_ISDIR(st.st_mode)) {
        UniqueFd sub(
            ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) throw system_error("open", what);
        for (const auto& child : list_dir_names(sub.get(), what))
            remove_at(sub.get(), child, what + "/" + child);
        if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
            throw system_error("rmdir", what);
        return;
    }
    if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT)
        throw system_error("unlink", what);
}

void set_times_fd(int fd, const struct timespec& mtime, const std::string& what) {
    struct timespec ts[2] = {mtime, mtime};
    if (::futimens(fd, ts) != 0) throw system_error("set times of", what);
}

void set_owner_mode_fd(int fd, const EntryMeta& meta, const std::string& what) {
    // chown first: it clears set-id bits that the chmod then sets.
    if (::fchown(fd, meta.uid, meta.gid) != 0) throw system_error("chown", what);
    if (::fchmod(fd, meta.mode & 07777) != 0) throw system_error("chmod", what);
}

}  // namespace

namespace {

// Filesystems (by device) where FICLONE failed: ext4 and tmpfs cannot
// reflink, and asking 10,000 times for a 10,000-file COPY costs 10,000
// failing ioctls.
std::mutex no_reflink_mu;
std::set<dev_t> no_reflink;

bool may_reflink(dev_t dev) {
    std::lock_guard lock(no_reflink_mu);
    return no_reflink.count(dev) == 0;
}

void reflink_failed(dev_t dev) {
    std::lock_guard lock(no_reflink_mu);
    no_reflink.insert(dev);
}

}  // namespace

uint64_t copy_fd_content(int in, int out, const std::string& what) {
    struct stat st {};
    if (::fstat(in, &st) != 0) throw system_error("stat", what);
    const off_t start = ::lseek(in, 0, SEEK_CUR);
    if (start == 0 && st.st_size > 0 && may_reflink(st.st_dev)) {
        if (::ioctl(out, FICLONE, in) == 0) {
            if (::lseek(out, 0, SEEK_END) < 0) throw system_error("seek", what);
            return static_cast<uint64_t>(st.st_size);
        }
        if (errno == EOPNOTSUPP || errno == ENOTTY || errno == EINVAL || errno == ENOSYS)
            reflink_failed(st.st_dev);  // EXDEV only says these two differ
    }
    uint64_t total = 0;
    bool use_range = true;
    for (;;) {
        if (use_range) {
            ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
            if (n > 0) {
                total += static_cast<uint64_t>(n);
                // Done at the size fstat saw: saves the call that returns 0.
                if (start == 0 && total == static_cast<uint64_t>(st.st_size)) return total;
                continue;
            }
            if (n == 0) return total;
            if (errno == EINTR) continue;
            if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP &&
                errno != EBADF)
                throw system_error("copy", what);
            use_range = false;
        }
        char buf[1 << 16];
        ssize_t n = ::read(in, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw system_error("read", what);
        }
        if (n == 0) return total;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = ::write(out, buf + off, static_cast<size_t>(n - off));
            if (w < 0) {
                if (errno == EINTR) continue;
                throw system_error("write", what);
            }
            off += w;
        }
        total += static_cast<uint64_t>(n);
    }
}

void copy_layer_xattrs(int src_fd, int dst_fd) {
    ssize_t len = ::flistxattr(src_fd, nullptr, 0);
    if (len <= 0) return;
    std::string names(static_cast<size_t>(len), '\0');
    len = ::flistxattr(src_fd, names.data(), names.size());
    if (len <= 0) return;
    names.resize(static_cast<size_t>(len));
    for (size_t i = 0; i < names.size();) {
        std::string name(names.c_str() + i);
        i += name.size() + 1;
        if (!is_layer_xattr(name)) continue;
        ssize_t vlen = ::fgetxattr(src_fd, name.c_str(), nullptr, 0);
        if (vlen < 0) continue;
        std::string value(static_cast<size_t>(vlen), '\0');
        vlen = ::fgetxattr(src_fd, name.c_str(), value.data(), value.size());
        if (vlen < 0) continue;
        // As BuildKit: an xattr the layer's filesystem refuses is skipped.
        (void)::fsetxattr(dst_fd, name.c_str(), value.data(), static_cast<size_t>(vlen), 0);
    }
}

LayerTree::LayerTree(const std::filesystem::path& dir) : path_(dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw system_error("open layer directory", dir.string());
    root_.fd = std::make_shared<const UniqueFd>(std::move(fd));
    root_.path.assign(1, '/');  // = "/" trips GCC 12's -Wrestrict at -O3
}

std::string LayerTree::child_path(const Dir& dir, const std::string& name) const {
    return dir.path == "/" ? "/" + name : dir.path + "/" + name;
}

void LayerTree::check_name(const Dir& dir, const std::string& name) const {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
        throw Error(ErrorKind::kInternal, "bad entry name '" + name + "' in " + dir.path);
    if (name.starts_with(".wh."))
        throw Error(ErrorKind::kUsage, "cannot write " + child_path(dir, name) +
                                           ": names starting with \".wh.\" are reserved for "
                                           "layer whiteouts");
}

void LayerTree::note_made(const Dir& dir, const std::string& name) {
    if (!recording_) return;
    std::lock_guard lock(made_mu_);
    if (auto it = made_.find(dir.path); it != made_.end()) it->second.insert(name);
}

std::optional<struct stat> LayerTree::lstat(const Dir& dir, const std::string& name) const {
    if (recording_) {
        if (auto st = recorded(child_path(dir, name))) return st;
        std::lock_guard lock(made_mu_);
        if (auto it = made_.find(dir.path); it != made_.end() && !it->second.count(name))
            return std::nullopt;
    }
    struct stat st {};
    if (::fstatat(dir.fd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return std::nullopt;
        throw system_error("stat", path_.string() + child_path(dir, name));
    }
    return st;
}

LayerTree::Dir LayerTree::open_dir(const Dir& dir, const std::string& name) const {
    UniqueFd fd(
        ::openat(dir.fd->get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw system_error("open directory", child_path(dir, name));
    return Dir{std::make_shared<const UniqueFd>(std::move(fd)), child_path(dir, name)};
}

LayerTree::Dir LayerTree::open_path(std::string_view path) const {
    Dir d = root_;
    for (const auto& c : split_path(path)) {
        if (c == "..") throw Error(ErrorKind::kInternal, "'..' in layer path " + std::string(path));
        d = open_dir(d, c);
    }
    return d;
}

LayerTree::Dir LayerTree::make_dir(const Dir& dir, const std::string& name, const EntryMeta& meta,
                                   bool update_existing) {
    check_name(dir, name);
    const std::string path = child_path(dir, name);
    if (auto st = lstat(dir, name)) {
        if (!S_ISDIR(st->st_mode))
            throw Error(ErrorKind::kConflict, "cannot copy to non-directory: " + path);
        Dir d = open_dir(dir, name);
        if (update_existing) set_owner_mode_fd(d.fd->get(), meta, path);
        return d;
    }
    if (::mkdirat(dir.fd->get(), name.c_str(), 0700) != 0) throw system_error("mkdir", path);
    note_made(dir, name);
    if (recording_) {
        std::lock_guard lock(made_mu_);
        made_[path];  // empty: made here
    }
    Dir d = open_dir(dir, name);
    set_owner_mode_fd(d.fd->get(), meta, path);
    ++entries_;
    return d;
}

void LayerTree::set_dir_meta(const Dir& dir, const EntryMeta& meta) {
    set_owner_mode_fd(dir.fd->get(), meta, dir.path);
}

void LayerTree::copy_dir_xattrs(int src_fd, const Dir& dir) {
    copy_layer_xattrs(src_fd, dir.fd->get());
}

void LayerTree::remove(const Dir& dir, const std::string& name) {
    const std::string path = child_path(dir, name);
    if (recording_) {
        if (recorded_.erase(path)) return;  // never also on disk
        // A directory: what was recorded below it goes with it.
        const std::string below = path + "/";
        recorded_.erase(recorded_.lower_bound(below),
                        std::find_if(recorded_.lower_bound(below), recorded_.end(),
                                     [&](const auto& e) { return !e.first.starts_with(below); }));
        std::lock_guard lock(made_mu_);
        if (auto it = made_.find(dir.path); it != made_.end()) it->second.erase(name);
        made_.erase(path);
        made_.erase(made_.lower_bound(below),
                    std::find_if(made_.lower_bound(below), made_.end(),
                                 [&](const auto& e) { return !e.first.starts_with(below); }));
    }
    remove_at(dir.fd->get(), name, path);
}

void LayerTree::record_file(const Dir& dir, const std::string& name, SourceFile source,
                            const EntryMeta& meta) {
    check_name(dir, name);
    if (!recording_) throw Error(ErrorKind::kInternal, "record_file outside record mode");
    const uint64_t size = source.size;
    if (!recorded_.try_emplace(child_path(dir, name), Recorded{std::move(source), meta}).second)
        throw Error(ErrorKind::kInternal, "recorded twice: " + child_path(dir, name));
    bytes_ += size;
    ++entries_;
}

namespace {

// What a recorded file would be had write_file made it: its mode after the
// chown (set-id bits kept: chmod comes second), owner, size, mtime.
struct stat recorded_stat(uint64_t size, const EntryMeta& meta) {
    struct stat st {};
    st.st_mode = S_IFREG | (meta.mode & 07777);
    st.st_uid = meta.uid;
    st.st_gid = meta.gid;
    st.st_size = static_cast<off_t>(size);
    st.st_nlink = 1;
    st.st_mtim = meta.mtime;
    return st;
}

}  // namespace

std::optional<struct stat> LayerTree::recorded(const std::string& path) const {
    auto it = recorded_.find(path);
    if (it == recorded_.end()) return std::nullopt;
    return recorded_stat(it->second.source.size, it->second.meta);
}

std::vector<store::LayerFile> LayerTree::take_layer_files(
    const std::filesystem::path& probe_dir,
    std::vector<std::optional<cache::StatRecord>>* identities) {
    // The sources move to a table the entries' open() share (a copy of each
    // SourceFile per entry cost ~2 µs a file: its paths).
    struct Sources {
        std::string layer_dir;
        std::vector<SourceFile> files;
    };
    auto sources = std::make_shared<Sources>();
    // The xattrs a file gets are those the layer's filesystem takes
    // (copy_layer_xattrs skips the rest): tried on an unnamed file there.
    sources->layer_dir = probe_dir.string();
    sources->files.reserve(recorded_.size());
    std::vector<store::LayerFile> out;
    out.reserve(recorded_.size());
    if (identities) identities->reserve(recorded_.size());
    for (auto& [path, rec] : recorded_) {
        store::LayerFile f;
        f.name = path.substr(1);
        f.st = recorded_stat(rec.source.size, rec.meta);
        f.shown = rec.source.shown;
        if (identities) identities->push_back(rec.source.identity);
        sources->files.push_back(std::move(rec.source));
        f.open = [sources, i = sources->files.size() - 1]() {
            const SourceFile& source = sources->files[i];
            store::LayerFileSource out;
            out.data = open_in_root(source.root->get(), source.path,
                                    O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0,
                                    InRootEscape::kRefuse);
            if (!out.data) throw system_error("open", source.shown);
            if (has_layer_xattrs(out.data.get())) {
                const std::string& dir = sources->layer_dir;
                out.xattrs.reset(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
                if (!out.xattrs)
                    throw system_error("create a file (O_TMPFILE) to try xattrs on in", dir);
                copy_layer_xattrs(out.data.get(), out.xattrs.get());
            }
            return out;
        };
        out.push_back(std::move(f));
    }
    return out;
}

void LayerTree::reuse_from(const std::filesystem::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw system_error("open layer directory", dir.string());
    reuse_root_ = std::move(fd);
}

bool LayerTree::link_identical(const Dir& dir, const std::string& name, int src_fd,
                               const EntryMeta& meta) {
    struct stat src {};
    if (::fstat(src_fd, &src) != 0 || ::lseek(src_fd, 0, SEEK_CUR) != 0) return false;
    // Never through a symlink of the old layer: RESOLVE_NO_SYMLINKS.
    struct open_how how {};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
    const std::string rel = child_path(dir, name).substr(1);
    UniqueFd old(
        static_cast<int>(::syscall(SYS_openat2, reuse_root_.get(), rel.c_str(), &how, sizeof how)));
    if (!old) return false;
    struct stat st {};
    const struct timespec mtime = stored(meta.mtime);
    if (::fstat(old.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != src.st_size ||
        (st.st_mode & 07777) != (meta.mode & 07777) || st.st_uid != meta.uid ||
        st.st_gid != meta.gid || st.st_mtim.tv_sec != mtime.tv_sec ||
        st.st_mtim.tv_nsec != mtime.tv_nsec)
        return false;
    if (::flistxattr(src_fd, nullptr, 0) > 0 || ::flistxattr(old.get(), nullptr, 0) > 0)
        return false;
    // Same bytes? (Read-only: cheaper than writing a copy.)
    bool same = true;
    char a[65536], b[65536];
    for (off_t off = 0; same && off < src.st_size;) {
        const ssize_t n = ::pread(src_fd, a, sizeof a, off);
        const ssize_t m = n > 0 ? ::pread(old.get(), b, static_cast<size_t>(n), off) : -1;
        same = n > 0 && m == n && std::memcmp(a, b, static_cast<size_t>(n)) == 0;
        off += n > 0 ? n : 0;
    }
    if (!same) return false;
    // AT_EMPTY_PATH links the open file itself (needs CAP_DAC_READ_SEARCH:
    // without it, or across filesystems, the file is copied as usual).
    if (::linkat(old.get(), "", dir.fd->get(), name.c_str(), AT_EMPTY_PATH) != 0) return false;
    return true;
}

uint64_t LayerTree::write_file(const Dir& dir, const std::string& name, int src_fd,
                               const EntryMeta& meta, int xattr_src) {
    check_name(dir, name);
    const std::string path = child_path(dir, name);
    if (reuse_root_ && link_identical(dir, name, src_fd, meta)) {
        note_made(dir, name);
        struct stat st {};
        ::fstat(src_fd, &st);
        bytes_ += static_cast<uint64_t>(st.st_size);
        ++entries_;
        ++reused_;
        return static_cast<uint64_t>(st.st_size);
    }
    UniqueFd out(::openat(dir.fd->get(), name.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) throw system_error("create", path);
    note_made(dir, name);
    uint64_t n = copy_fd_content(src_fd, out.get(), path);
    set_owner_mode_fd(out.get(), meta, path);
    if (xattr_src >= 0) copy_layer_xattrs(xattr_src, out.get());
    set_times_fd(out.get(), stored(meta.mtime), path);
    bytes_ += n;
    ++entries_;
    return n;
}

uint64_t LayerTree::write_file(const Dir& dir, const std::string& name, std::string_view content,
                               const EntryMeta& meta) {
    return write_file_with(
        dir, name,
        [&](int fd) -> uint64_t {
            for (size_t off = 0; off < content.size();) {
                ssize_t w = ::write(fd, content.data() + off, content.size() - off);
                if (w < 0) {
                    if (errno == EINTR) continue;
                    throw system_error("write", child_path(dir, name));
                }
                off += static_cast<size_t>(w);
            }
            return content.size();
        },
        meta);
}

uint64_t LayerTree::write_file_with(const Dir& dir, const std::string& name,
                                    const std::function<uint64_t(int fd)>& fill,
                                    const EntryMeta& meta) {
    check_name(dir, name);
    const std::string path = child_path(dir, name);
    UniqueFd out(::openat(dir.fd->get(), name.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) throw system_error("create", path);
    note_made(dir, name);
    const uint64_t n = fill(out.get());
    set_owner_mode_fd(out.get(), meta, path);
    set_times_fd(out.get(), stored(meta.mtime), path);
    bytes_ += n;
    ++entries_;
    return n;
}

void LayerTree::set_file_meta(const Dir& dir, const std::string& name, const EntryMeta& meta) {
    const std::string path = child_path(dir, name);
    UniqueFd fd(::openat(dir.fd->get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw system_error("open", path);
    set_owner_mode_fd(fd.get(), meta, path);
    set_times_fd(fd.get(), stored(meta.mtime), path);
}

void LayerTree::write_symlink(const Dir& dir, const std::string& name, const std::string& target,
                              const EntryMeta& meta) {
    check_name(dir, name);
    const std::string path = child_path(dir, name);
    if (::symlinkat(target.c_str(), dir.fd->get(), name.c_str()) != 0)
        throw system_error("symlink", path);
    note_made(dir, name);
    if (::fchownat(dir.fd->get(), name.c_str(), meta.uid, meta.gid, AT_SYMLINK_NOFOLLOW) != 0)
        throw system_error("chown", path);
    struct timespec ts[2] = {stored(meta.mtime), stored(meta.mtime)};
    if (::utimensat(dir.fd->get(), name.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
        throw system_error("set times of", path);
    ++entries_;
}

void LayerTree::write_special(const Dir& dir, const std::string& name, mode_t type, dev_t rdev,
                              const EntryMeta& meta) {
    check_name(dir, name);
    const std::string path = child_path(dir, name);
    if (::mknodat(dir.fd->get(), name.c_str(), type | 0600, rdev) != 0)
        throw system_error("mknod", path);
    note_made(dir, name);
    if (::fchownat(dir.fd->get(), name.c_str(), meta.uid, meta.gid, AT_SYMLINK_NOFOLLOW) != 0)
        throw system_error("chown", path);
    if (::fchmodat(dir.fd->get(), name.c_str(), meta.mode & 07777, AT_SYMLINK_NOFOLLOW) != 0) {
        // Older C libraries lack the flag; the node was just made by mknodat,
        // so it is not a symlink.
        if (errno != ENOTSUP && errno != EOPNOTSUPP) throw system_error("chmod", path);
        if (::fchmodat(dir.fd->get(), name.c_str(), meta.mode & 07777, 0) != 0)
            throw system_error("chmod", path);
    }
    struct timespec ts[2] = {stored(meta.mtime), stored(meta.mtime)};
    if (::utimensat(dir.fd->get(), name.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
        throw system_error("set times of", path);
    ++entries_;
}

void LayerTree::link(const std::string& target_path, const Dir& dir, const std::string& name) {
    check_name(dir, name);
    auto parts = split_path(target_path);
    if (parts.empty()) throw Error(ErrorKind::kInternal, "hardlink to the layer root");
    const std::string leaf = parts.back();
    parts.pop_back();
    Dir parent = open_path(join_abs(parts));
    auto st = lstat(parent, leaf);
    if (!st || !S_ISREG(st->st_mode))
        throw Error(ErrorKind::kConflict, "cannot hardlink " + child_path(dir, name) + " to " +
                                              target_path + ": not a regular file in the layer");
    if (::linkat(parent.fd->get(), leaf.c_str(), dir.fd->get(), name.c_str(), 0) != 0)
        throw system_error("link", child_path(dir, name));
    note_made(dir, name);
    ++entries_;
}

void LayerTree::defer_mtime(const std::string& dir_path, const struct timespec& mtime) {
    if (dir_path == "/") return;  // the layer root is not an entry of the layer
    std::lock_guard lock(deferred_mu_);
    deferred_[dir_path] = mtime;
}

void LayerTree::finish() {
    std::lock_guard lock(deferred_mu_);
    std::vector<std::pair<std::string, struct timespec>> items(deferred_.begin(), deferred_.end());
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
        auto depth = [](const std::string& p) { return std::count(p.begin(), p.end(), '/'); };
        return depth(a.first) > depth(b.first);
    });
    for (const auto& [p, ts] : items) {
        Dir d = open_path(p);
        set_times_fd(d.fd->get(), stored(ts), p);
    }
    deferred_.clear();
}

}  // namespace strata::executor
