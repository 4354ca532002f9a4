#include "base/in_root.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <deque>
#include <vector>

#include "base/go/path.hpp"

namespace strata {

namespace {

constexpr int kMaxSymlinks = 40;  // the kernel's MAXSYMLINKS

std::atomic<bool> force_walk{false};
std::atomic<bool> no_openat2{false};

// An fd or the errno of the failure: the walk closes descriptors on its way
// out, so errno is set only once nothing else can touch it.
struct Result {
    UniqueFd fd;
    int err = 0;
};

Result fail(int err) {
    return Result{UniqueFd(), err};
}

UniqueFd finish(Result r) {
    if (!r.fd) errno = r.err;
    return std::move(r.fd);
}

// Splits `s` for the walk: names and "..", without empty and "."
// components. A trailing "/" or "/." becomes a final "." — "the directory
// itself", which must then be one.
void prepend_components(std::string_view s, std::deque<std::string>& pending) {
    std::vector<std::string> parts;
    size_t i = 0;
    std::string_view last;
    while (i <= s.size()) {
        size_t j = s.find('/', i);
        if (j == std::string_view::npos) j = s.size();
        last = s.substr(i, j - i);
        if (!last.empty() && last != ".") parts.emplace_back(last);
        i = j + 1;
    }
    if (!s.empty() && (last.empty() || last == ".")) parts.emplace_back(".");
    pending.insert(pending.begin(), parts.begin(), parts.end());
}

// 1: `name` is a symlink (target in `out`); 0: it is not; -1: errno says.
int read_link(int dirfd, const std::string& name, std::string& out) {
    out.resize(256);
    for (;;) {
        ssize_t n = ::readlinkat(dirfd, name.c_str(), out.data(), out.size());
        if (n < 0) return errno == EINVAL ? 0 : -1;
        if (static_cast<size_t>(n) < out.size()) {
            out.resize(static_cast<size_t>(n));
            return 1;
        }
        out.resize(out.size() * 2);
    }
}

// A /proc "magic" link (/proc/<pid>/root, cwd, exe, fd/*, ns/*, map_files/*)
// jumps to an object, not to a path; its readlink text is only a picture of
// it. The walk never lets the kernel follow one, so it could not escape
// anyway, but refuses them as openat2's RESOLVE_NO_MAGICLINKS does. On procfs
// only the plain links are relative and start with a pid or "self/" (self,
// thread-self, mounts, net, ...).
bool is_magic_link(int dirfd, const std::string& target) {
    struct statfs fs {};
    if (::fstatfs(dirfd, &fs) != 0 || fs.f_type != PROC_SUPER_MAGIC) return false;
    if (target.empty() || target.front() == '/') return true;
    const bool plain = (target.front() >= '0' && target.front() <= '9') ||
                       target.starts_with("self/") || target.starts_with("thread-self/");
    return !plain || target.find(':') != std::string::npos;
}

Result walk(int root_fd, std::string_view path, int flags, unsigned mode, InRootEscape escape) {
    if (path.empty()) return fail(ENOENT);
    if (path.find('\0') != std::string_view::npos) return fail(EINVAL);
    if (path.size() >= PATH_MAX) return fail(ENAMETOOLONG);
    flags |= O_CLOEXEC;
    // O_NOFOLLOW, and O_CREAT | O_EXCL, do not follow a final symlink.
    const bool final_nofollow =
        (flags & O_NOFOLLOW) != 0 || (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
    std::deque<std::string> pending;
    prepend_components(path, pending);
    std::vector<UniqueFd> stack;  // directories entered below the root
    auto cur = [&] { return stack.empty() ? root_fd : stack.back().get(); };
    auto reopen_cur = [&]() -> Result {
        UniqueFd fd(::openat(cur(), ".", flags, mode));
        return fd ? Result{std::move(fd)} : fail(errno);
    };
    int links = 0;
    std::string target;
    while (!pending.empty()) {
        std::string comp = std::move(pending.front());
        pending.pop_front();
        const bool last = pending.empty();
        if (comp == ".") {
            if (last) return reopen_cur();
            continue;
        }
        if (comp == "..") {
            if (!stack.empty())
                stack.pop_back();
            else if (escape == InRootEscape::kRefuse)
                return fail(EXDEV);
            if (last) return reopen_cur();
            continue;
        }
        const int r = read_link(cur(), comp, target);
        if (r < 0 && !(last && errno == ENOENT)) return fail(errno);
        if (r == 1 && !(last && final_nofollow)) {
            if (++links > kMaxSymlinks || is_magic_link(cur(), target)) return fail(ELOOP);
            if (target.empty()) return fail(ENOENT);
            if (target.front() == '/') stack.clear();  // as in a chroot
            prepend_components(target, pending);
            continue;
        }
        if (!last) {
            UniqueFd next(
                ::openat(cur(), comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!next) return fail(errno);
            stack.push_back(std::move(next));
            continue;
        }
        UniqueFd fd(::openat(cur(), comp.c_str(), flags | (final_nofollow ? 0 : O_NOFOLLOW), mode));
        if (!final_nofollow) {
            // Became a symlink since readlinkat looked: look again.
            struct stat st {};
            const bool raced =
                fd ? ((flags & O_PATH) != 0 && ::fstat(fd.get(), &st) == 0 && S_ISLNK(st.st_mode))
                   : errno == ELOOP;
            if (raced) {
                if (++links > kMaxSymlinks) return fail(ELOOP);
                pending.push_front(std::move(comp));
                continue;
            }
        }
        return fd ? Result{std::move(fd)} : fail(errno);
    }
    return fail(ENOENT);  // not reached: a non-empty path gives a component
}

UniqueFd openat2_once(int root_fd, const std::string& path, int flags, unsigned mode,
                      uint64_t resolve) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) how.mode = mode;
    how.resolve = resolve;
    for (int attempt = 0;; ++attempt) {
        long fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
        if (fd >= 0) return UniqueFd(static_cast<int>(fd));
        // EAGAIN: a rename raced with a ".." (RESOLVE_IN_ROOT/BENEATH);
        // the kernel asks the caller to try again.
        if ((errno != EAGAIN && errno != EINTR) || attempt == 16) return UniqueFd();
    }
}

// Splits `path` into its names and ".." (no "." or empty ones).
std::vector<std::string> tokens(std::string_view path) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i <= path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        auto t = path.substr(i, j - i);
        if (!t.empty() && t != ".") out.emplace_back(t);
        i = j + 1;
    }
    return out;
}

std::string join_abs(const std::vector<std::string>& parts, size_t count) {
    std::string out;
    for (size_t i = 0; i < count; ++i)
        out += "/" + parts[i];
    return out.empty() ? "/" : out;
}

UniqueFd make_dirs(int root_fd, const std::string& path, InRootEscape escape, int& links);

InRootParent parent_impl(int root_fd, std::string_view path, bool create, InRootEscape escape,
                         int& links, std::string* parent_path) {
    InRootParent p;
    if (path.find('\0') != std::string_view::npos) {
        errno = EINVAL;
        return p;
    }
    const std::vector<std::string> parts = tokens(path);
    if (parts.empty()) {
        p.dir = open_in_root(root_fd, "/", O_PATH | O_DIRECTORY, 0, escape);
        return p;
    }
    if (parts.back() == "..") {
        errno = EINVAL;
        return p;
    }
    const std::string parent = join_abs(parts, parts.size() - 1);
    p.dir = create ? make_dirs(root_fd, parent, escape, links)
                   : open_in_root(root_fd, parent, O_PATH | O_DIRECTORY, 0, escape);
    if (p.dir) p.leaf = parts.back();
    if (parent_path) *parent_path = parent;
    return p;
}

UniqueFd make_dirs(int root_fd, const std::string& path, InRootEscape escape, int& links) {
    UniqueFd fd = open_in_root(root_fd, path, O_PATH | O_DIRECTORY, 0, escape);
    if (fd || errno != ENOENT) return fd;
    if (std::vector<std::string> parts = tokens(path); !parts.empty() && parts.back() == "..") {
        // "a/missing/..": make "a/missing", then go up from it.
        if (!make_dirs(root_fd, join_abs(parts, parts.size() - 1), escape, links)) return fd;
        return open_in_root(root_fd, path, O_PATH | O_DIRECTORY, 0, escape);
    }
    std::string parent;
    InRootParent p = parent_impl(root_fd, path, true, escape, links, &parent);
    if (!p.dir) return UniqueFd();
    if (p.leaf.empty()) {
        errno = ENOENT;
        return UniqueFd();
    }
    if (::mkdirat(p.dir.get(), p.leaf.c_str(), 0755) != 0 && errno != EEXIST) return UniqueFd();
    // A dangling symlink is there (mkdir says EEXIST, open said ENOENT):
    // make what it points at, inside the root.
    std::string target;
    const int r = read_link(p.dir.get(), p.leaf, target);
    if (r < 0) return UniqueFd();
    if (r == 1) {
        if (++links > kMaxSymlinks) {
            errno = ELOOP;
            return UniqueFd();
        }
        if (target.empty()) {
            errno = ENOENT;
            return UniqueFd();
        }
        return make_dirs(root_fd, target.front() == '/' ? target : parent + "/" + target, escape,
                         links);
    }
    return UniqueFd(
        ::openat(p.dir.get(), p.leaf.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

}  // namespace

namespace detail {

UniqueFd open_in_root_walk(int root_fd, std::string_view path, int flags, unsigned mode,
                           InRootEscape escape) {
    return finish(walk(root_fd, path, flags, mode, escape));
}

bool openat2_available() {
    static const bool available = [] {
        struct open_how how {};
        how.flags = O_PATH | O_CLOEXEC;
        long fd = ::syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
        if (fd >= 0) ::close(static_cast<int>(fd));
        return fd >= 0 || errno != ENOSYS;
    }();
    return available;
}

void force_in_root_walk(bool on) {
    force_walk = on;
}

}  // namespace detail

UniqueFd open_in_root(int root_fd, std::string_view path, int flags, unsigned mode,
                      InRootEscape escape) {
    if (path.find('\0') != std::string_view::npos || path.empty()) {
        errno = path.empty() ? ENOENT : EINVAL;
        return UniqueFd();
    }
    if (!force_walk && !no_openat2) {
        UniqueFd fd;
        if (escape == InRootEscape::kClamp) {
            fd = openat2_once(root_fd, std::string(path), flags, mode,
                              RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
            if (fd || errno != ENOSYS) return fd;
        } else {
            // No kernel mode refuses only a climbing "..": RESOLVE_BENEATH
            // refuses it and absolute symlinks too (EXDEV). Without either on
            // the way its answer is the final one; with one, the walk decides.
            std::string_view rel = path;
            while (!rel.empty() && rel.front() == '/')
                rel.remove_prefix(1);
            fd = openat2_once(root_fd, rel.empty() ? std::string(".") : std::string(rel), flags,
                              mode, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
            if (fd || (errno != ENOSYS && errno != EXDEV)) return fd;
        }
        if (errno == ENOSYS) no_openat2 = true;
    }
    return detail::open_in_root_walk(root_fd, path, flags, mode, escape);
}

std::string clean_in_root(std::string_view path) {
    // Rooted, path.Clean drops every ".." that would climb above "/".
    return go::path::clean(std::string("/").append(path));  // not "/" + ...: GCC 12 -Wrestrict
}

InRootParent open_parent_in_root(int root_fd, std::string_view path, bool create,
                                 InRootEscape escape) {
    int links = 0;
    return parent_impl(root_fd, path, create, escape, links, nullptr);
}

UniqueFd make_dirs_in_root(int root_fd, std::string_view path, InRootEscape escape) {
    if (path.find('\0') != std::string_view::npos) {
        errno = EINVAL;
        return UniqueFd();
    }
    int links = 0;
    return make_dirs(root_fd, std::string(path), escape, links);
}

}  // namespace strata
