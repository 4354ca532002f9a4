#include "sandbox/tree_diff.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <utility>

#include "base/error.hpp"
#include "base/overlay_mount.hpp"
#include "base/unique_fd.hpp"

namespace strata::sandbox {

namespace fs = std::filesystem;

namespace {

// A path the l*xattr calls can use for `name` in the directory `dirfd`
// without following `name` itself (the directory is reached through its
// descriptor). dirfd == AT_FDCWD: `name` is an absolute path of strata's.
std::string xattr_path(int dirfd, const std::string& name) {
    if (dirfd == AT_FDCWD) return name;
    return "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
}

std::map<std::string, std::string> read_xattrs(const std::string& path) {
    std::map<std::string, std::string> out;
    ssize_t n = ::llistxattr(path.c_str(), nullptr, 0);
    if (n <= 0) return out;
    std::string names(static_cast<size_t>(n), '\0');
    n = ::llistxattr(path.c_str(), names.data(), names.size());
    if (n <= 0) return out;
    names.resize(static_cast<size_t>(n));
    for (size_t i = 0; i < names.size();) {
        const std::string name = names.c_str() + i;
        i += name.size() + 1;
        if (name.empty() || is_overlay_xattr(name)) continue;
        ssize_t len = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
        if (len < 0) continue;
        std::string value(static_cast<size_t>(len), '\0');
        len = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
        if (len < 0) continue;
        value.resize(static_cast<size_t>(len));
        out.emplace(name, std::move(value));
    }
    return out;
}

bool is_opaque(const std::string& dir) {
    for (const char* name : {kTrustedOpaqueXattr, kUserOpaqueXattr}) {
        char v[8];
        if (::lgetxattr(dir.c_str(), name, v, sizeof v) == 1 && v[0] == 'y') return true;
    }
    return false;
}

std::vector<std::string> list_names(int dirfd, const std::string& what) {
    UniqueFd dup(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dup) throw system_error("open directory", what);
    DIR* d = ::fdopendir(dup.get());
    if (!d) throw system_error("read directory", what);
    dup.release();
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
        names.emplace_back(e->d_name);
    }
    ::closedir(d);
    return names;
}

// One directory of the merged view: the layers' directories at that path
// that overlay would merge, topmost first (it stops below an opaque one or
// where a layer has something else than a directory).
struct LowerDir {
    std::vector<std::pair<size_t, std::string>> dirs;  // (layer index, absolute path)
};

struct LowerEntry {
    size_t layer = 0, pos = 0;  // the layer it comes from; its index in LowerDir::dirs
    std::string path;
    struct stat st {};
};

std::map<std::string, LowerEntry> list_merged(const LowerDir& d) {
    std::map<std::string, LowerEntry> out;
    std::map<std::string, bool> seen;  // includes whiteouts
    for (size_t pos = 0; pos < d.dirs.size(); ++pos) {
        const auto& [layer, dir] = d.dirs[pos];
        UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
        if (!fd) throw system_error("open layer directory", dir);
        for (const auto& name : list_names(fd.get(), dir)) {
            if (seen.count(name)) continue;
            seen[name] = true;
            LowerEntry e;
            e.layer = layer;
            e.pos = pos;
            e.path = dir + "/" + name;
            if (::fstatat(fd.get(), name.c_str(), &e.st, AT_SYMLINK_NOFOLLOW) != 0)
                throw system_error("stat", e.path);
            if (is_overlay_whiteout(e.st)) continue;
            out.emplace(name, std::move(e));
        }
    }
    return out;
}

LowerDir subdir(const LowerDir& d, const std::string& name, const LowerEntry& top) {
    LowerDir sub;
    sub.dirs.emplace_back(top.layer, top.path);
    if (is_opaque(top.path)) return sub;
    for (size_t q = top.pos + 1; q < d.dirs.size(); ++q) {
        const std::string p = d.dirs[q].second + "/" + name;
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0) {
            if (errno == ENOENT) continue;
            throw system_error("stat", p);
        }
        if (!S_ISDIR(st.st_mode)) break;  // a whiteout or a non-directory hides the rest
        sub.dirs.emplace_back(d.dirs[q].first, p);
        if (is_opaque(p)) break;
    }
    return sub;
}

// Copies entries into a destination tree, keeping hard links: a source
// inode met again (within one source: one layer, or the tree) is linked to
// its first copy.
class Copier {
  public:
    Copier(int dest_root, std::string dest_name, CopyStats* stats)
        : dest_root_(dest_root), dest_name_(std::move(dest_name)), stats_(stats) {}

    // A non-directory `src_name` (in `src_dirfd`, or an absolute path with
    // AT_FDCWD) with stat `st`, as `name` in `dst_dirfd` (`rel` from the
    // destination's root, for links). `source` tells sources apart for hard
    // links.
    void copy_leaf(int src_dirfd, const std::string& src_name, const struct stat& st, size_t source,
                   int dst_dirfd, const std::string& name, const std::string& rel) {
        const std::string what = dest_name_ + "/" + rel;
        if (st.st_nlink > 1) {
            const auto key = std::make_tuple(source, st.st_dev, st.st_ino);
            if (auto it = links_.find(key); it != links_.end()) {
                if (::linkat(dest_root_, it->second.c_str(), dst_dirfd, name.c_str(), 0) != 0)
                    throw system_error("link", what);
                if (stats_) ++stats_->hardlinked;
                return;
            }
            links_.emplace(key, rel);
        }
        if (S_ISREG(st.st_mode)) {
            copy_file(src_dirfd, src_name, st, dst_dirfd, name, what);
            if (stats_) ++stats_->files;
        } else if (S_ISLNK(st.st_mode)) {
            std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
            ssize_t n;
            for (;;) {
                n = ::readlinkat(src_dirfd, src_name.c_str(), target.data(), target.size());
                if (n < 0) throw system_error("readlink", src_name);
                if (static_cast<size_t>(n) < target.size()) break;
                target.resize(target.size() * 2);
            }
            target.resize(static_cast<size_t>(n));
            if (::symlinkat(target.c_str(), dst_dirfd, name.c_str()) != 0)
                throw system_error("symlink", what);
            if (stats_) ++stats_->others;
        } else {
            if (::mknodat(dst_dirfd, name.c_str(), st.st_mode & (S_IFMT | 07777), st.st_rdev) != 0)
                throw system_error("mknod", what);
            if (stats_) ++stats_->others;
        }
        if (!S_ISREG(st.st_mode)) set_meta(src_dirfd, src_name, st, dst_dirfd, name, what);
    }

    // Owner, mode, xattrs and times of `name` in `dst_dirfd` from the source
    // (for a directory: after its content, so that the times stay).
    static void set_meta(int src_dirfd, const std::string& src_name, const struct stat& st,
                         int dst_dirfd, const std::string& name, const std::string& what) {
        if (::fchownat(dst_dirfd, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0)
            throw system_error("chown", what);
        if (!S_ISLNK(st.st_mode) && ::fchmodat(dst_dirfd, name.c_str(), st.st_mode & 07777, 0) != 0)
            throw system_error("chmod", what);
        const std::string dst_path = xattr_path(dst_dirfd, name);
        for (const auto& [k, v] : read_xattrs(xattr_path(src_dirfd, src_name)))
            if (::lsetxattr(dst_path.c_str(), k.c_str(), v.data(), v.size(), 0) != 0)
                throw system_error("set xattr " + k + " on", what);
        const timespec times[2] = {st.st_atim, st.st_mtim};
        if (::utimensat(dst_dirfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
            throw system_error("set the times of", what);
    }

  private:
    void copy_file(int src_dirfd, const std::string& src_name, const struct stat& st, int dst_dirfd,
                   const std::string& name, const std::string& what) {
        UniqueFd in(::openat(src_dirfd, src_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!in) throw system_error("open", src_name);
        UniqueFd out(
            ::openat(dst_dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!out) throw system_error("create", what);
        if (st.st_size > 0) {
            if (::ioctl(out.get(), FICLONE, in.get()) == 0) {
                if (stats_) ++stats_->reflinked;
            } else {
                // No reflinks here (EOPNOTSUPP, EXDEV, EINVAL): copy_file_range
                // (in-kernel), read/write when that is refused too.
                off_t left = st.st_size;
                while (left > 0) {
                    const ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr,
                                                        static_cast<size_t>(left), 0);
                    if (n < 0 && errno == EINTR) continue;
                    if (n <= 0) break;
                    left -= n;
                }
                if (left > 0) {
                    char buf[65536];
                    for (;;) {
                        const ssize_t r = ::read(in.get(), buf, sizeof buf);
                        if (r < 0 && errno == EINTR) continue;
                        if (r < 0) throw system_error("read", src_name);
                        if (r == 0) break;
                        for (ssize_t off = 0; off < r;) {
                            const ssize_t w =
                                ::write(out.get(), buf + off, static_cast<size_t>(r - off));
                            if (w < 0 && errno == EINTR) continue;
                            if (w <= 0) throw system_error("write", what);
                            off += w;
                        }
                    }
                }
            }
            if (stats_) stats_->bytes += static_cast<uint64_t>(st.st_size);
        }
        // chown before chmod: chown clears setuid/setgid.
        if (::fchown(out.get(), st.st_uid, st.st_gid) != 0) throw system_error("chown", what);
        if (::fchmod(out.get(), st.st_mode & 07777) != 0) throw system_error("chmod", what);
        const std::string dst_path = xattr_path(dst_dirfd, name);
        for (const auto& [k, v] : read_xattrs(xattr_path(src_dirfd, src_name)))
            if (::fsetxattr(out.get(), k.c_str(), v.data(), v.size(), 0) != 0)
                throw system_error("set xattr " + k + " on", what);
        const timespec times[2] = {st.st_atim, st.st_mtim};
        if (::futimens(out.get(), times) != 0) throw system_error("set the times of", what);
    }

    int dest_root_;
    std::string dest_name_;
    CopyStats* stats_;
    std::map<std::tuple<size_t, dev_t, ino_t>, std::string> links_;
};

std::string join(const std::string& rel, const std::string& name) {
    return rel.empty() ? name : rel + "/" + name;
}

UniqueFd open_dir_at(int dirfd, const std::string& name, const std::string& what) {
    UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw system_error("open directory", what);
    return fd;
}

void materialize_dir(const LowerDir& d, int dst, const std::string& rel, Copier& copier,
                     TreeSnapshot& snap, CopyStats* stats, const std::string& dest_name) {
    for (const auto& [name, e] : list_merged(d)) {
        const std::string r = join(rel, name);
        if (S_ISDIR(e.st.st_mode)) {
            if (::mkdirat(dst, name.c_str(), 0700) != 0)
                throw system_error("mkdir", dest_name + "/" + r);
            UniqueFd sub = open_dir_at(dst, name, dest_name + "/" + r);
            materialize_dir(subdir(d, name, e), sub.get(), r, copier, snap, stats, dest_name);
            Copier::set_meta(AT_FDCWD, e.path, e.st, dst, name, dest_name + "/" + r);
            snap.dirs[r] = dir_id_at(sub.get(), "");
            if (stats) ++stats->dirs;
        } else {
            copier.copy_leaf(AT_FDCWD, e.path, e.st, e.layer, dst, name, r);
        }
    }
}

class Differ {
  public:
    Differ(int upper_root, const std::string& upper_name, const std::string& tree_name,
           const TreeSnapshot* snap, std::string opaque_xattr, CopyStats* stats)
        : copier_(upper_root, upper_name, stats),
          upper_name_(upper_name),
          tree_name_(tree_name),
          snap_(snap),
          opaque_(std::move(opaque_xattr)) {}

    // Returns whether anything at or below `rel` changed (`upper` then holds it).
    bool diff_dir(const LowerDir& d, int tree, int upper, const std::string& rel) {
        const auto lower = d.dirs.empty() ? std::map<std::string, LowerEntry>() : list_merged(d);
        std::map<std::string, struct stat> now;
        for (const auto& name : list_names(tree, tree_name_ + "/" + rel)) {
            struct stat st {};
            if (::fstatat(tree, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
                throw system_error("stat", tree_name_ + "/" + join(rel, name));
            if (snap_ && snap_->ignore.count(join(rel, name))) continue;
            now.emplace(name, st);
        }
        bool changed = false;
        for (const auto& [name, e] : lower) {
            if (now.count(name)) continue;
            // Removed: a whiteout, as overlay leaves one.
            if (::mknodat(upper, name.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
                throw system_error("make a whiteout", upper_name_ + "/" + join(rel, name));
            changed = true;
        }
        for (const auto& [name, st] : now) {
            const std::string r = join(rel, name);
            const auto it = lower.find(name);
            if (it == lower.end()) {
                copy_subtree(tree, name, st, upper, r);
                changed = true;
                continue;
            }
            const LowerEntry& e = it->second;
            if (S_ISDIR(st.st_mode)) {
                const bool replaced = !S_ISDIR(e.st.st_mode) || replaced_dir(tree, name, r);
                if (replaced) {
                    copy_subtree(tree, name, st, upper, r);
                    const std::string p = xattr_path(upper, name);
                    if (::lsetxattr(p.c_str(), opaque_.c_str(), "y", 1, 0) != 0)
                        throw system_error("set " + opaque_ + " on", upper_name_ + "/" + r);
                    changed = true;
                    continue;
                }
                if (::mkdirat(upper, name.c_str(), 0700) != 0)
                    throw system_error("mkdir", upper_name_ + "/" + r);
                bool sub_changed;
                {
                    UniqueFd t = open_dir_at(tree, name, tree_name_ + "/" + r);
                    UniqueFd u = open_dir_at(upper, name, upper_name_ + "/" + r);
                    sub_changed = diff_dir(subdir(d, name, e), t.get(), u.get(), r);
                }
                if (sub_changed || !same(e, tree, name, st)) {
                    Copier::set_meta(tree, name, st, upper, name, upper_name_ + "/" + r);
                    changed = true;
                } else if (::unlinkat(upper, name.c_str(), AT_REMOVEDIR) != 0) {
                    throw system_error("remove", upper_name_ + "/" + r);
                }
                continue;
            }
            if (!same(e, tree, name, st)) {
                copier_.copy_leaf(tree, name, st, 0, upper, name, r);
                changed = true;
            }
        }
        return changed;
    }

  private:
    bool replaced_dir(int tree, const std::string& name, const std::string& rel) const {
        if (!snap_) return false;
        const auto it = snap_->dirs.find(rel);
        return it == snap_->dirs.end() || !(it->second == dir_id_at(tree, name));
    }

    void copy_subtree(int tree, const std::string& name, const struct stat& st, int upper,
                      const std::string& rel) {
        if (!S_ISDIR(st.st_mode)) {
            copier_.copy_leaf(tree, name, st, 0, upper, name, rel);
            return;
        }
        if (::mkdirat(upper, name.c_str(), 0700) != 0)
            throw system_error("mkdir", upper_name_ + "/" + rel);
        {
            UniqueFd t = open_dir_at(tree, name, tree_name_ + "/" + rel);
            UniqueFd u = open_dir_at(upper, name, upper_name_ + "/" + rel);
            for (const auto& child : list_names(t.get(), tree_name_ + "/" + rel)) {
                if (snap_ && snap_->ignore.count(join(rel, child))) continue;
                struct stat cst {};
                if (::fstatat(t.get(), child.c_str(), &cst, AT_SYMLINK_NOFOLLOW) != 0)
                    throw system_error("stat", tree_name_ + "/" + join(rel, child));
                copy_subtree(t.get(), child, cst, u.get(), join(rel, child));
            }
        }
        Copier::set_meta(tree, name, st, upper, name, upper_name_ + "/" + rel);
    }

    // The comparison documented in tree_diff.hpp.
    bool same(const LowerEntry& e, int tree, const std::string& name, const struct stat& st) {
        const struct stat& l = e.st;
        if ((l.st_mode & S_IFMT) != (st.st_mode & S_IFMT)) return false;
        if ((l.st_mode & 07777) != (st.st_mode & 07777)) return false;
        if (l.st_uid != st.st_uid || l.st_gid != st.st_gid) return false;
        if (l.st_mtim.tv_sec != st.st_mtim.tv_sec || l.st_mtim.tv_nsec != st.st_mtim.tv_nsec)
            return false;
        if (!S_ISDIR(st.st_mode) && l.st_size != st.st_size) return false;
        if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && l.st_rdev != st.st_rdev) return false;
        // Untouched since the copy: nothing that stat does not show can differ.
        if (snap_ && (st.st_ctim.tv_sec < snap_->taken.tv_sec ||
                      (st.st_ctim.tv_sec == snap_->taken.tv_sec &&
                       st.st_ctim.tv_nsec <= snap_->taken.tv_nsec)))
            return true;
        if (read_xattrs(e.path) != read_xattrs(xattr_path(tree, name))) return false;
        if (S_ISLNK(st.st_mode)) return link_target(AT_FDCWD, e.path) == link_target(tree, name);
        if (S_ISREG(st.st_mode)) return same_content(e.path, tree, name);
        return true;
    }

    static std::string link_target(int dirfd, const std::string& name) {
        char buf[PATH_MAX + 1];
        const ssize_t n = ::readlinkat(dirfd, name.c_str(), buf, sizeof buf);
        if (n < 0) throw system_error("readlink", name);
        return std::string(buf, static_cast<size_t>(n));
    }

    bool same_content(const std::string& lower_path, int tree, const std::string& name) {
        UniqueFd a(::open(lower_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!a) throw system_error("open", lower_path);
        UniqueFd b(::openat(tree, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!b) throw system_error("open", tree_name_ + "/" + name);
        static thread_local std::vector<char> ba(1 << 16), bb(1 << 16);
        for (;;) {
            const ssize_t na = ::read(a.get(), ba.data(), ba.size());
            if (na < 0) throw system_error("read", lower_path);
            ssize_t nb = 0;
            while (nb < na) {  // the same number of bytes from the other
                const ssize_t r = ::read(b.get(), bb.data() + nb, static_cast<size_t>(na - nb));
                if (r < 0) throw system_error("read", tree_name_ + "/" + name);
                if (r == 0) break;
                nb += r;
            }
            if (na != nb || std::memcmp(ba.data(), bb.data(), static_cast<size_t>(na)) != 0)
                return false;
            if (na == 0) return true;
        }
    }

    Copier copier_;
    std::string upper_name_, tree_name_;
    const TreeSnapshot* snap_;
    std::string opaque_;
};

LowerDir root_of(const std::vector<fs::path>& lower) {
    // Topmost first, down to the first opaque root (a layer cannot make its
    // root opaque, but a malformed one is read as overlay would).
    LowerDir d;
    for (size_t i = lower.size(); i-- > 0;) {
        d.dirs.emplace_back(i, lower[i].string());
        if (is_opaque(lower[i].string())) break;
    }
    return d;
}

}  // namespace

TreeSnapshot::DirId dir_id_at(int dirfd, const std::string& name) {
    struct statx sx {};
    const int flags = AT_SYMLINK_NOFOLLOW | (name.empty() ? AT_EMPTY_PATH : 0);
    if (::statx(dirfd, name.c_str(), flags, STATX_INO | STATX_BTIME, &sx) != 0)
        throw system_error("statx", name);
    TreeSnapshot::DirId id;
    id.ino = sx.stx_ino;
    if (sx.stx_mask & STATX_BTIME) {
        id.has_btime = true;
        id.btime_sec = sx.stx_btime.tv_sec;
        id.btime_nsec = sx.stx_btime.tv_nsec;
    }
    return id;
}

TreeSnapshot materialize_layers(const std::vector<fs::path>& lower, const fs::path& dest,
                                CopyStats* stats) {
    UniqueFd dst(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dst) throw system_error("open", dest.string());
    TreeSnapshot snap;
    Copier copier(dst.get(), dest.string(), stats);
    const LowerDir root = root_of(lower);
    if (!root.dirs.empty()) {
        materialize_dir(root, dst.get(), "", copier, snap, stats, dest.string());
        struct stat st {};
        if (::lstat(root.dirs.front().second.c_str(), &st) != 0)
            throw system_error("stat", root.dirs.front().second);
        Copier::set_meta(AT_FDCWD, root.dirs.front().second, st, dst.get(), ".", dest.string());
    }
    snap.dirs[""] = dir_id_at(dst.get(), "");
    // The ctime the kernel stamps comes from a clock that may lag the one read
    // here by a tick: wait two, so that whatever the step changes is stamped
    // after `taken`.
    ::clock_gettime(CLOCK_REALTIME, &snap.taken);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return snap;
}

void diff_tree(const std::vector<fs::path>& lower, const fs::path& tree, const fs::path& upper,
               const TreeSnapshot* snapshot, const std::string& opaque_xattr, CopyStats* stats) {
    UniqueFd t(::open(tree.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!t) throw system_error("open", tree.string());
    UniqueFd u(::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!u) throw system_error("open", upper.string());
    Differ differ(u.get(), upper.string(), tree.string(), snapshot, opaque_xattr, stats);
    differ.diff_dir(root_of(lower), t.get(), u.get(), "");
}

}  // namespace strata::sandbox
