#include "containers/container_diff.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/error.hpp"
#include "base/in_root.hpp"
#include "base/unique_fd.hpp"
#include "containers/container_record.hpp"
#include "store/safe_path.hpp"
#include "store/whiteout.hpp"

namespace strata::containers {

namespace fs = std::filesystem;

namespace {

bool opaque_at(const std::string& path) {
    for (const char* name : {store::kTrustedOpaqueXattr, store::kUserOpaqueXattr}) {
        char value[8];
        const ssize_t n = ::lgetxattr(path.c_str(), name, value, sizeof value);
        if (n == 1 && value[0] == 'y') return true;
    }
    return false;
}

std::vector<std::string> components(std::string_view rel) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= rel.size()) {
        size_t slash = rel.find('/', pos);
        if (slash == std::string_view::npos) slash = rel.size();
        if (slash > pos) out.emplace_back(rel.substr(pos, slash - pos));
        pos = slash + 1;
    }
    return out;
}

std::vector<std::string> sorted_names(int dirfd, const std::string& shown) {
    std::vector<std::string> names = store::list_dir(dirfd, shown);
    std::sort(names.begin(), names.end());
    return names;
}

std::string parent_of(const std::string& rel) {
    const size_t slash = rel.rfind('/');
    return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

bool same_dir_metadata(const struct stat& a, const struct stat& b) {
    return a.st_mode == b.st_mode && a.st_uid == b.st_uid && a.st_gid == b.st_gid;
}

// Docker's sameFsTime: equal, or the same second with one side truncated to
// whole seconds (a tar round trip drops the nanoseconds).
bool same_mtime(const struct stat& a, const struct stat& b) {
    return a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
           (a.st_mtim.tv_nsec == b.st_mtim.tv_nsec || a.st_mtim.tv_nsec == 0 ||
            b.st_mtim.tv_nsec == 0);
}

class ChangeWalker {
  public:
    ChangeWalker(const std::vector<fs::path>& lower, const fs::path& upper,
                 const std::set<std::string>& skip)
        : lower_(lower), upper_(upper), skip_(skip) {}

    std::vector<FsChange> run() {
        UniqueFd root(::open(upper_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!root) throw system_error("open the container's upper directory", upper_.string());
        visit(root.get(), "");
        return std::move(changes_);
    }

  private:
    void visit(int dirfd, const std::string& rel) {
        for (const auto& name : sorted_names(dirfd, (upper_ / rel).string())) {
            const std::string path = rel.empty() ? name : rel + "/" + name;
            if (skip_.count(path)) continue;
            struct stat st {};
            if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno == ENOENT) continue;  // a running container removed it meanwhile
                throw system_error("stat", (upper_ / path).string());
            }
            UniqueFd sub;
            if (S_ISDIR(st.st_mode)) {
                sub = UniqueFd(
                    ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                if (!sub) {
                    if (errno == ENOENT) continue;
                    throw system_error("open", (upper_ / path).string());
                }
            }
            record(path, st, sub.get());
            if (sub) visit(sub.get(), path);
        }
    }

    void record(const std::string& path, const struct stat& st, int dirfd) {
        const std::optional<struct stat> below = lower_entry(lower_, path);
        ChangeKind kind;
        if (store::is_overlay_whiteout(st) ||
            (dirfd >= 0 && below && store::is_opaque_dir(dirfd))) {
            kind = ChangeKind::kDelete;
        } else if (!below) {
            kind = ChangeKind::kAdd;
        } else {
            // Copied up only because something below it changed.
            if (S_ISDIR(st.st_mode) && S_ISDIR(below->st_mode) && st.st_size == below->st_size &&
                st.st_mode == below->st_mode && same_mtime(st, *below))
                return;
            kind = ChangeKind::kModify;
        }
        if (S_ISDIR(st.st_mode)) changed_dirs_.insert(path);
        if (kind != ChangeKind::kModify) {
            const std::string parent = parent_of(path);
            if (!parent.empty() && changed_dirs_.insert(parent).second)
                changes_.push_back({"/" + parent, ChangeKind::kModify});
        }
        changes_.push_back({"/" + path, kind});
    }

    const std::vector<fs::path>& lower_;
    const fs::path& upper_;
    const std::set<std::string>& skip_;
    std::set<std::string> changed_dirs_;
    std::vector<FsChange> changes_;
};

// An entry of the upper dir at `rel`, when there is one.
std::optional<struct stat> upper_entry(int upper_fd, const std::string& rel) {
    UniqueFd fd = open_in_root(upper_fd, rel, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (!fd) return std::nullopt;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return std::nullopt;
    return st;
}

bool dir_only_holds(int upper_fd, const std::string& rel, const std::set<std::string>& stubs) {
    UniqueFd dir = open_in_root(upper_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (!dir || store::is_opaque_dir(dir.get())) return false;
    for (const auto& name : store::list_dir(dir.get(), rel))
        if (!stubs.count(rel + "/" + name)) return false;
    return true;
}

}  // namespace

char change_letter(ChangeKind kind) {
    switch (kind) {
        case ChangeKind::kModify:
            return 'C';
        case ChangeKind::kAdd:
            return 'A';
        case ChangeKind::kDelete:
            return 'D';
    }
    return '?';
}

std::optional<struct stat> lower_entry(const std::vector<fs::path>& lower, std::string_view rel) {
    const std::vector<std::string> parts = components(rel);
    if (parts.empty()) return std::nullopt;
    for (auto layer = lower.rbegin(); layer != lower.rend(); ++layer) {
        std::string at = layer->string();
        bool opaque = false;  // an ancestor here hides the layers below
        bool hidden = false;  // this layer has nothing at the path, and nothing below counts
        bool absent = false;  // this layer has nothing at the path; look below
        for (size_t i = 0; i + 1 < parts.size(); ++i) {
            at += "/" + parts[i];
            struct stat st {};
            if (::lstat(at.c_str(), &st) != 0) {
                absent = true;
                break;
            }
            if (!S_ISDIR(st.st_mode)) {  // a whiteout, a file or a symlink hides what is below
                hidden = true;
                break;
            }
            if (opaque_at(at)) opaque = true;
        }
        if (hidden) return std::nullopt;
        if (!absent) {
            at += "/" + parts.back();
            struct stat st {};
            if (::lstat(at.c_str(), &st) == 0) {
                if (store::is_overlay_whiteout(st)) return std::nullopt;
                return st;
            }
        }
        if (opaque) return std::nullopt;
    }
    return std::nullopt;
}

std::set<std::string> mount_stubs(const std::vector<fs::path>& lower, const fs::path& upper,
                                  const std::vector<std::string>& mount_points) {
    std::set<std::string> stubs;
    UniqueFd root(::open(upper.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return stubs;
    // Deepest first, so that a parent is judged after everything under it.
    std::vector<std::string> points;
    for (const auto& p : mount_points) {
        const std::string clean = clean_in_root(p);
        if (clean != "/") points.push_back(clean.substr(1));
    }
    std::sort(points.begin(), points.end(), [](const std::string& a, const std::string& b) {
        return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
    });
    for (const auto& point : points) {
        const auto st = upper_entry(root.get(), point);
        if (!st) continue;
        const auto below = lower_entry(lower, point);
        if (below && ((below->st_mode & S_IFMT) != (st->st_mode & S_IFMT) ||
                      !same_dir_metadata(*st, *below)))
            continue;
        if (S_ISREG(st->st_mode) ? st->st_size == 0
                                 : S_ISDIR(st->st_mode) && dir_only_holds(root.get(), point, stubs))
            stubs.insert(point);
    }
    // Parents made (or copied up) only to hold mount points.
    for (const auto& point : points) {
        for (std::string dir = parent_of(point); !dir.empty(); dir = parent_of(dir)) {
            if (stubs.count(dir)) continue;
            const auto st = upper_entry(root.get(), dir);
            if (!st || !S_ISDIR(st->st_mode)) break;
            const auto below = lower_entry(lower, dir);
            if (below && (!S_ISDIR(below->st_mode) || !same_dir_metadata(*st, *below))) break;
            if (!dir_only_holds(root.get(), dir, stubs)) break;
            stubs.insert(dir);
        }
    }
    return stubs;
}

std::vector<std::string> container_mount_points(const Container& c) {
    std::vector<std::string> out = {
        "/dev", "/proc", "/sys", "/etc/hosts", "/etc/resolv.conf", "/etc/hostname"};
    for (const auto& m : c.spec.mounts)
        out.push_back(m.target);
    return out;
}

std::vector<FsChange> upper_changes(const std::vector<fs::path>& lower, const fs::path& upper,
                                    const std::set<std::string>& skip) {
    return ChangeWalker(lower, upper, skip).run();
}

std::string render_changes(const std::vector<FsChange>& changes) {
    std::string out;
    for (const auto& c : changes) {
        out += change_letter(c.kind);
        out += ' ';
        out += c.path;
        out += '\n';
    }
    return out;
}

}  // namespace strata::containers
