#include "store/safe_path.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>

#include "base/error.hpp"

namespace strata::store {

namespace {

constexpr int kMaxSymlinks = 40;  // as the kernel's ELOOP limit

[[noreturn]] void refuse(std::string_view entry, const std::string& why) {
    throw Error(ErrorKind::kCorrupt, "layer entry '" + std::string(entry) + "': " + why);
}

std::string read_link_at(int dirfd, const std::string& name, std::string_view entry) {
    std::string buf(256, '\0');
    for (;;) {
        ssize_t n = ::readlinkat(dirfd, name.c_str(), buf.data(), buf.size());
        if (n < 0) throw system_error("readlink", std::string(entry));
        if (static_cast<size_t>(n) < buf.size()) {
            buf.resize(static_cast<size_t>(n));
            return buf;
        }
        buf.resize(buf.size() * 2);
    }
}

void split_into(std::string_view s, std::deque<std::string>& out, bool front) {
    std::vector<std::string> parts;
    size_t i = 0;
    while (i <= s.size()) {
        size_t j = s.find('/', i);
        if (j == std::string_view::npos) j = s.size();
        auto part = s.substr(i, j - i);
        if (!part.empty() && part != ".") parts.emplace_back(part);
        i = j + 1;
    }
    if (front)
        out.insert(out.begin(), parts.begin(), parts.end());
    else
        out.insert(out.end(), parts.begin(), parts.end());
}

}  // namespace

std::vector<std::string> split_entry_path(std::string_view name, std::string_view what) {
    if (name.empty()) refuse(what, "empty name");
    if (name.find('\0') != std::string_view::npos) refuse(what, "NUL byte in name");
    if (name.front() == '/') refuse(what, "absolute path");
    std::vector<std::string> out;
    size_t i = 0;
    while (i <= name.size()) {
        size_t j = name.find('/', i);
        if (j == std::string_view::npos) j = name.size();
        auto part = name.substr(i, j - i);
        if (part == "..") refuse(what, "'..' component");
        if (!part.empty() && part != ".") out.emplace_back(part);
        i = j + 1;
    }
    return out;
}

std::string join_path(const std::vector<std::string>& components) {
    std::string out;
    for (const auto& c : components) {
        if (!out.empty()) out += '/';
        out += c;
    }
    return out;
}

SafeRoot::SafeRoot(const std::filesystem::path& root) : path_(root) {
    root_.reset(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_) throw system_error("open", root.string());
}

// Walks `pending` from the root. `stack` holds the directories passed so far
// (root at the bottom, borrowed), so ".." from a symlink target can go back.
static UniqueFd walk(int root_fd, std::deque<std::string> pending, bool create,
                     std::string_view entry, bool* missing) {
    std::vector<UniqueFd> stack;  // owned fds above the root
    auto current = [&] { return stack.empty() ? root_fd : stack.back().get(); };
    int links = 0;
    *missing = false;
    std::string walked;  // for messages
    while (!pending.empty()) {
        std::string comp = std::move(pending.front());
        pending.pop_front();
        if (comp.empty() || comp == ".") continue;
        if (comp == "..") {
            if (stack.empty())
                refuse(entry, "path resolves outside the target (through '" + walked + "')");
            stack.pop_back();
            continue;
        }
        struct stat st {};
        if (::fstatat(current(), comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) throw system_error("stat", std::string(entry));
            if (!create) {
                *missing = true;
                return UniqueFd();
            }
            if (::mkdirat(current(), comp.c_str(), 0755) != 0 && errno != EEXIST)
                throw system_error("mkdir", std::string(entry));
            if (::fstatat(current(), comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
                throw system_error("stat", std::string(entry));
        }
        walked += walked.empty() ? comp : "/" + comp;
        if (S_ISLNK(st.st_mode)) {
            if (++links > kMaxSymlinks) refuse(entry, "too many levels of symbolic links");
            std::string target = read_link_at(current(), comp, entry);
            if (!target.empty() && target.front() == '/') stack.clear();  // chroot-like
            split_into(target, pending, /*front=*/true);
            // ".." parts of the target stay in `pending` and are checked above.
            walked += " -> " + target;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) refuse(entry, "'" + walked + "' is not a directory");
        UniqueFd next(
            ::openat(current(), comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) throw system_error("open", std::string(entry));
        stack.push_back(std::move(next));
    }
    if (stack.empty()) {
        UniqueFd dup(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
        if (!dup) throw system_error("dup", std::string(entry));
        return dup;
    }
    return std::move(stack.back());
}

SafeRoot::Parent SafeRoot::open_parent(const std::vector<std::string>& components, bool create,
                                       std::string_view entry) const {
    if (components.empty()) refuse(entry, "has no name below the target");
    std::deque<std::string> pending(components.begin(), components.end() - 1);
    bool missing = false;
    Parent p;
    p.dir = walk(root_.get(), std::move(pending), create, entry, &missing);
    p.leaf = components.back();
    return p;
}

UniqueFd SafeRoot::open_dir(const std::vector<std::string>& components, bool create,
                            std::string_view entry) const {
    std::deque<std::string> pending(components.begin(), components.end());
    bool missing = false;
    UniqueFd dir = walk(root_.get(), std::move(pending), create, entry, &missing);
    if (!dir) return dir;
    UniqueFd rd(::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!rd) throw system_error("open", std::string(entry));
    return rd;
}

std::vector<std::string> list_dir(int dirfd, std::string_view what) {
    int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw system_error("open directory", std::string(what));
    DIR* d = ::fdopendir(fd);
    if (!d) {
        int err = errno;
        ::close(fd);
        throw system_error("opendir", std::string(what), err);
    }
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* de = ::readdir(d)) {
        std::string_view n = de->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
        errno = 0;
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) throw system_error("readdir", std::string(what), err);
    return names;
}

void remove_at(int dirfd, const std::string& name, std::string_view what) {
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return;
        throw system_error("stat", std::string(what));
    }
    if (S_ISDIR(st.st_mode)) {
        UniqueFd sub(::openat(dirfd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) throw system_error("open", std::string(what));
        for (const auto& child : list_dir(sub.get(), what))
            remove_at(sub.get(), child, what);
        if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
            throw system_error("rmdir", std::string(what));
        return;
    }
    if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT)
        throw system_error("unlink", std::string(what));
}

}  // namespace strata::store
