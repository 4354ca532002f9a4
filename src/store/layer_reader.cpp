#include "store/layer_reader.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "store/safe_path.hpp"
#include "store/tar_input.hpp"
#include "store/tar_locale.hpp"
#include "store/whiteout.hpp"

namespace strata::store {

namespace {

std::string proc_path(int dirfd, const std::string& leaf) {
    return "/proc/self/fd/" + std::to_string(dirfd) + "/" + leaf;
}

struct DeferredDir {
    std::vector<std::string> components;
    std::string name;
    mode_t mode;
    struct timespec mtime;
};

// Copies bytes [0, len) of `in` to the same offsets of `out`.
void copy_prefix(int in, int out, int64_t len, const std::string& name) {
    loff_t in_off = 0, out_off = 0;
    while (in_off < len) {
        const ssize_t n =
            ::copy_file_range(in, &in_off, out, &out_off, static_cast<size_t>(len - in_off), 0);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        break;  // EXDEV, EINVAL, ...: read and write the rest
    }
    char buf[65536];
    while (in_off < len) {
        const ssize_t n = ::pread(in, buf, std::min<int64_t>(sizeof buf, len - in_off), in_off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw system_error("read (copying an identical file)", name);
        for (ssize_t done = 0; done < n;) {
            const ssize_t w =
                ::pwrite(out, buf + done, static_cast<size_t>(n - done), in_off + done);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) throw system_error("write", name);
            done += w;
        }
        in_off += n;
    }
}

class Applier {
  public:
    Applier(const std::filesystem::path& target, const ApplyOptions& opts)
        : root_(target), opts_(opts) {
        if (!opts.link_from.empty() && opts.same_owner) {
            like_root_.reset(::open(opts.link_from.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!like_root_) throw system_error("open layer directory", opts.link_from.string());
        }
    }

    const ApplyStats& stats() const { return stats_; }

    void apply(TarInput& in, struct archive_entry* e) {
        std::string name = in.entry_name();
        auto comps = split_entry_path(name, name);
        if (comps.empty()) {
            // "./": the target directory itself; only its metadata can change.
            if (archive_entry_filetype(e) != AE_IFDIR)
                throw Error(ErrorKind::kCorrupt,
                            "layer entry '" + name + "': not a directory at the root");
            set_owner_and_mode_later(comps, name, e);
            return;
        }
        auto wh = classify_whiteout(comps.back());
        switch (wh.kind) {
            case WhiteoutKind::kOpaque:
                comps.pop_back();
                opaque(comps, name);
                return;
            case WhiteoutKind::kMeta:
                return;  // AUFS bookkeeping
            case WhiteoutKind::kWhiteout:
                if (wh.target.empty() || wh.target == "." || wh.target == "..")
                    throw Error(ErrorKind::kCorrupt,
                                "layer entry '" + name + "': invalid whiteout name");
                comps.back() = std::string(wh.target);
                whiteout(comps, name, e);
                return;
            case WhiteoutKind::kNone:
                break;
        }
        create(in, e, comps, name);
    }

    void finish() {
        // Directory modes and times last: creating entries inside would change
        // the times, and a read-only mode could block those creations.
        for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
            UniqueFd dir = open_own_dir(it->components, it->name);
            if (!dir) continue;  // deleted or replaced by a later entry
            if (::fchmod(dir.get(), it->mode) != 0) throw system_error("chmod", it->name);
            struct timespec times[2] = {it->mtime, it->mtime};
            if (::futimens(dir.get(), times) != 0) throw system_error("set times", it->name);
        }
    }

  private:
    // The directory `comps` names itself, not one a symlink there points to;
    // null when it is gone or no longer a directory.
    UniqueFd open_own_dir(const std::vector<std::string>& comps, const std::string& name) {
        if (comps.empty()) return root_.open_dir(comps, false, name);
        auto parent = root_.open_parent(comps, false, name);
        if (!parent.dir) return UniqueFd();
        UniqueFd dir(::openat(parent.dir.get(), parent.leaf.c_str(),
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!dir && errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
            throw system_error("open", name);
        return dir;
    }

    // --- whiteouts ---------------------------------------------------------

    void whiteout(const std::vector<std::string>& comps, const std::string& name,
                  struct archive_entry* e) {
        std::string path = join_path(comps);
        // Whiteouts hide lower layers only: an entry of this layer stays.
        if (written_.count(path)) return;
        if (opts_.whiteouts == WhiteoutMode::kOverlay) {
            auto parent = root_.open_parent(comps, true, name);
            remove_at(parent.dir.get(), parent.leaf, name);
            int pfd = parent.dir.get();
            if (::mknodat(pfd, parent.leaf.c_str(), S_IFCHR | 0600, makedev(0, 0)) != 0)
                throw system_error("mknod whiteout", name);
            // Keep the marker's metadata, so that exporting the unpacked layer
            // again gives the same tar.
            if (opts_.same_owner) chown_at(pfd, parent.leaf, e, name);
            if (::fchmodat(pfd, parent.leaf.c_str(), archive_entry_perm(e) & 0777, 0) != 0)
                throw system_error("chmod", name);
            set_times_at(pfd, parent.leaf, e, name);
            written_.insert(path);
            return;
        }
        auto parent = root_.open_parent(comps, false, name);
        if (!parent.dir) return;  // nothing below to delete
        remove_at(parent.dir.get(), parent.leaf, name);
    }

    void opaque(const std::vector<std::string>& dir_comps, const std::string& name) {
        std::string dir_path = join_path(dir_comps);
        UniqueFd dir = root_.open_dir(dir_comps, true, name);
        if (opts_.whiteouts == WhiteoutMode::kOverlay) {
            const char* attr = opts_.user_xattr_overlay ? kUserOpaqueXattr : kTrustedOpaqueXattr;
            if (::fsetxattr(dir.get(), attr, "y", 1, 0) != 0)
                throw system_error(std::string("set xattr ") + attr, name);
            return;
        }
        clear_lower(dir.get(), dir_path, name);
    }

    // Removes what lower layers left in `dirfd`, keeping this layer's entries.
    void clear_lower(int dirfd, const std::string& dir_path, const std::string& name) {
        for (const auto& child : list_dir(dirfd, name)) {
            std::string child_path = dir_path.empty() ? child : dir_path + "/" + child;
            if (!written_.count(child_path)) {
                remove_at(dirfd, child, name);
                continue;
            }
            struct stat st {};
            if (::fstatat(dirfd, child.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISDIR(st.st_mode)) {
                UniqueFd sub(::openat(dirfd, child.c_str(),
                                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                if (!sub) throw system_error("open", name);
                clear_lower(sub.get(), child_path, name);
            }
        }
    }

    // --- entries -------------------------------------------------------------

    void create(TarInput& in, struct archive_entry* e, const std::vector<std::string>& comps,
                const std::string& name) {
        auto parent = root_.open_parent(comps, true, name);
        int pfd = parent.dir.get();
        const std::string& leaf = parent.leaf;
        const char* hardlink = archive_entry_hardlink(e);
        auto type = archive_entry_filetype(e);

        struct stat existing {};
        bool exists = ::fstatat(pfd, leaf.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
        if (!exists && errno != ENOENT) throw system_error("stat", name);
        // An existing directory stays (its content merges); anything else is replaced.
        if (exists && !(S_ISDIR(existing.st_mode) && type == AE_IFDIR && !hardlink)) {
            remove_at(pfd, leaf, name);
            exists = false;
        }
        written_.insert(join_path(comps));

        if (hardlink) {
            link(pfd, leaf, hardlink, name);
            return;  // a hardlink shares its target's metadata
        }
        auto perm = static_cast<mode_t>(archive_entry_perm(e));
        switch (type) {
            case AE_IFDIR:
                if (!exists && ::mkdirat(pfd, leaf.c_str(), 0700) != 0)
                    throw system_error("mkdir", name);
                set_owner_and_mode_later(comps, name, e);
                apply_xattrs_dir(pfd, leaf, e, name);
                return;
            case AE_IFREG: {
                ++stats_.files;
                // The same file in `link_from`: compared while the entry's
                // bytes stream by; linked when all of them match, else made
                // here from the matching prefix and the rest of the entry.
                UniqueFd like = like_file(comps, e);
                int64_t same = 0;  // bytes known equal to `like`'s
                UniqueFd fd;
                const auto create_file = [&] {
                    fd.reset(::openat(pfd, leaf.c_str(),
                                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
                    if (!fd) throw system_error("create", name);
                    if (same > 0) copy_prefix(like.get(), fd.get(), same, name);
                };
                if (!like) create_file();
                in.read_data([&](const void* d, size_t n, int64_t off) {
                    if (!fd) {
                        if (off == same && equal_at(like.get(), d, n, off)) {
                            same += static_cast<int64_t>(n);
                            return;
                        }
                        create_file();
                    }
                    auto* p = static_cast<const char*>(d);
                    while (n > 0) {
                        ssize_t w = ::pwrite(fd.get(), p, n, off);
                        if (w < 0) {
                            if (errno == EINTR) continue;
                            throw system_error("write", name);
                        }
                        p += w;
                        n -= static_cast<size_t>(w);
                        off += w;
                    }
                });
                if (!fd) {
                    if (same == archive_entry_size(e) && link_like(like.get(), pfd, leaf)) {
                        ++stats_.linked;
                        return;
                    }
                    create_file();  // the link failed (EMLINK, ...): copy the bytes
                }
                if (::ftruncate(fd.get(), archive_entry_size(e)) != 0)  // sparse tails
                    throw system_error("truncate", name);
                if (opts_.same_owner &&
                    ::fchown(fd.get(), archive_entry_uid(e), archive_entry_gid(e)) != 0)
                    throw system_error("chown", name);
                if (::fchmod(fd.get(), perm) != 0) throw system_error("chmod", name);
                apply_xattrs(proc_path(pfd, leaf), e, name);
                struct timespec t = mtime_of(e);
                struct timespec times[2] = {t, t};
                if (::futimens(fd.get(), times) != 0) throw system_error("set times", name);
                return;
            }
            case AE_IFLNK: {
                const char* target = archive_entry_symlink(e);
                if (!target)
                    throw Error(ErrorKind::kCorrupt,
                                "layer entry '" + name + "': symlink without target");
                if (::symlinkat(target, pfd, leaf.c_str()) != 0)
                    throw system_error("symlink", name);
                break;
            }
            case AE_IFCHR:
            case AE_IFBLK:
            case AE_IFIFO: {
                mode_t kind = type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK : S_IFIFO;
                dev_t dev = type == AE_IFIFO
                                ? 0
                                : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
                if (::mknodat(pfd, leaf.c_str(), kind | 0600, dev) != 0)
                    throw system_error("mknod", name);
                break;
            }
            default:
                throw Error(ErrorKind::kCorrupt,
                            "layer entry '" + name + "': unsupported file type");
        }
        // Symlinks, devices, fifos: metadata by name, never following the leaf.
        if (opts_.same_owner) chown_at(pfd, leaf, e, name);
        if (type != AE_IFLNK && ::fchmodat(pfd, leaf.c_str(), perm, 0) != 0)
            throw system_error("chmod", name);
        apply_xattrs(proc_path(pfd, leaf), e, name);
        set_times_at(pfd, leaf, e, name);
    }

    static void set_times_at(int pfd, const std::string& leaf, struct archive_entry* e,
                             const std::string& name) {
        struct timespec t = mtime_of(e);
        struct timespec times[2] = {t, t};
        if (::utimensat(pfd, leaf.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
            throw system_error("set times", name);
    }

    void link(int pfd, const std::string& leaf, const char* target, const std::string& name) {
        auto tcomps = split_entry_path(target, name + " (hardlink target '" + target + "')");
        auto tparent =
            root_.open_parent(tcomps, false, name + " (hardlink target '" + target + "')");
        struct stat st {};
        if (!tparent.dir ||
            ::fstatat(tparent.dir.get(), tparent.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw Error(ErrorKind::kCorrupt, "layer entry '" + name + "': hardlink target '" +
                                                 std::string(target) +
                                                 "' does not exist in the layer");
        if (S_ISDIR(st.st_mode))
            throw Error(ErrorKind::kCorrupt, "layer entry '" + name + "': hardlink to a directory");
        if (::linkat(tparent.dir.get(), tparent.leaf.c_str(), pfd, leaf.c_str(), 0) != 0)
            throw system_error("link", name);
    }

    void chown_at(int pfd, const std::string& leaf, struct archive_entry* e,
                  const std::string& name) {
        if (::fchownat(pfd, leaf.c_str(), archive_entry_uid(e), archive_entry_gid(e),
                       AT_SYMLINK_NOFOLLOW) != 0)
            throw system_error("chown", name);
    }

    void set_owner_and_mode_later(const std::vector<std::string>& comps, const std::string& name,
                                  struct archive_entry* e) {
        if (opts_.same_owner) {
            UniqueFd dir = open_own_dir(comps, name);
            if (dir && ::fchown(dir.get(), archive_entry_uid(e), archive_entry_gid(e)) != 0)
                throw system_error("chown", name);
        }
        dirs_.push_back({comps, name, static_cast<mode_t>(archive_entry_perm(e)), mtime_of(e)});
    }

    void apply_xattrs_dir(int pfd, const std::string& leaf, struct archive_entry* e,
                          const std::string& name) {
        apply_xattrs(proc_path(pfd, leaf), e, name);
    }

    void apply_xattrs(const std::string& path, struct archive_entry* e, const std::string& name) {
        if (archive_entry_xattr_reset(e) == 0) return;
        const char* key = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
            if (!key || !is_layer_xattr(key)) continue;
            if (::lsetxattr(path.c_str(), key, value, size, 0) != 0) {
                // user.* xattrs cannot exist on symlinks and devices (EPERM).
                if (errno == EPERM && std::string_view(key).starts_with("user.")) continue;
                throw system_error(std::string("set xattr ") + key, name);
            }
        }
    }

    // The regular file at the entry's path in `link_from` (never through a
    // symlink) when its metadata is what the entry's file gets here, and no
    // file of this layer is linked to it yet (that would make a hardlink the
    // tar does not have). Null otherwise.
    UniqueFd like_file(const std::vector<std::string>& comps, struct archive_entry* e) {
        if (!like_root_ || archive_entry_sparse_count(e) > 0 || archive_entry_xattr_count(e) > 0)
            return UniqueFd();
        struct open_how how {};
        how.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        const std::string rel = join_path(comps);
        UniqueFd fd(static_cast<int>(
            ::syscall(SYS_openat2, like_root_.get(), rel.c_str(), &how, sizeof how)));
        if (!fd) return fd;
        struct stat st {};
        const struct timespec t = mtime_of(e);
        if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
            st.st_size != archive_entry_size(e) ||
            (st.st_mode & 07777) != static_cast<mode_t>(archive_entry_perm(e)) ||
            st.st_uid != static_cast<uid_t>(archive_entry_uid(e)) ||
            st.st_gid != static_cast<gid_t>(archive_entry_gid(e)) ||
            st.st_mtim.tv_sec != t.tv_sec || st.st_mtim.tv_nsec != t.tv_nsec ||
            ::flistxattr(fd.get(), nullptr, 0) != 0 || linked_inodes_.count({st.st_dev, st.st_ino}))
            return UniqueFd();
        return fd;
    }

    // Whether `like` holds `d[0, n)` at `off`.
    static bool equal_at(int like, const void* d, size_t n, int64_t off) {
        char buf[65536];
        for (size_t done = 0; done < n;) {
            const size_t want = std::min(sizeof buf, n - done);
            const ssize_t r = ::pread(like, buf, want, off + static_cast<int64_t>(done));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0 ||
                std::memcmp(buf, static_cast<const char*>(d) + done, static_cast<size_t>(r)) != 0)
                return false;
            done += static_cast<size_t>(r);
        }
        return true;
    }

    // Links the open file `like` as `leaf` of `pfd`; false when it cannot.
    bool link_like(int like, int pfd, const std::string& leaf) {
        struct stat st {};
        if (::fstat(like, &st) != 0) return false;
        // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc/self/fd does not.
        if (::linkat(like, "", pfd, leaf.c_str(), AT_EMPTY_PATH) != 0 &&
            ::linkat(AT_FDCWD, ("/proc/self/fd/" + std::to_string(like)).c_str(), pfd, leaf.c_str(),
                     AT_SYMLINK_FOLLOW) != 0)
            return false;
        linked_inodes_.insert({st.st_dev, st.st_ino});
        return true;
    }

    static struct timespec mtime_of(struct archive_entry* e) {
        struct timespec t {};
        if (archive_entry_mtime_is_set(e)) {
            t.tv_sec = archive_entry_mtime(e);
            t.tv_nsec = archive_entry_mtime_nsec(e);
        }
        return t;
    }

    SafeRoot root_;
    ApplyOptions opts_;
    std::unordered_set<std::string> written_;  // paths this layer created
    std::vector<DeferredDir> dirs_;
    UniqueFd like_root_;  // opts_.link_from, open
    std::set<std::pair<dev_t, ino_t>> linked_inodes_;
    ApplyStats stats_;
};

}  // namespace

Digest apply_layer(int fd, const std::filesystem::path& target, const ApplyOptions& opts,
                   ApplyStats* stats) {
    ScopedUtf8Locale utf8;
    Applier applier(target, opts);
    TarInput in(fd, "layer");
    if (!opts.compute_diff_id) {
        if (opts.expected_diff_id)
            throw Error(ErrorKind::kInternal, "apply_layer: a diffID to check, but none computed");
        in.skip_digest();
    }
    while (struct archive_entry* e = in.next())
        applier.apply(in, e);
    applier.finish();
    if (stats) *stats = applier.stats();
    auto diff_id = in.finish();
    if (opts.expected_diff_id && *opts.expected_diff_id != diff_id)
        throw Error(ErrorKind::kCorrupt, "layer diffID mismatch: expected " +
                                             opts.expected_diff_id->str() + ", got " +
                                             diff_id.str());
    return diff_id;
}

Digest apply_layer(const std::filesystem::path& tar, const std::filesystem::path& target,
                   const ApplyOptions& opts) {
    UniqueFd fd(::open(tar.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw system_error("open", tar.string());
    return apply_layer(fd.get(), target, opts);
}

}  // namespace strata::store
