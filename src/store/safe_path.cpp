#include "store/safe_path.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.hpp"
#include "base/in_root.hpp"

namespace strata::store {

namespace {

[[noreturn]] void refuse(std::string_view entry, const std::string& why) {
    throw Error(ErrorKind::kCorrupt, "layer entry '" + std::string(entry) + "': " + why);
}

// Turns a failed in-root resolution into the error an archive entry gets:
// a path the archive made impossible is kCorrupt, anything else kSystem.
[[noreturn]] void resolution_failed(std::string_view entry, const std::string& path, int err) {
    switch (err) {
        case EXDEV:
            refuse(entry, "a symlink on the way to '" + path + "' resolves outside the target");
        case ELOOP:
            refuse(entry, "too many levels of symbolic links on the way to '" + path + "'");
        case ENOTDIR:
            refuse(entry, "a component of '" + path + "' is not a directory");
        default:
            throw system_error("open", std::string(entry), err);
    }
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

// Both resolve through base/in_root.hpp with InRootEscape::kRefuse: an
// absolute symlink starts again at the target, a ".." that would climb above
// it is refused (the names themselves never hold ".." — split_entry_path).
SafeRoot::Parent SafeRoot::open_parent(const std::vector<std::string>& components, bool create,
                                       std::string_view entry) const {
    if (components.empty()) refuse(entry, "has no name below the target");
    const std::string path = join_path(components);
    InRootParent p = open_parent_in_root(root_.get(), path, create, InRootEscape::kRefuse);
    if (!p.dir) {
        if (errno == ENOENT && !create) return Parent{UniqueFd(), std::string()};
        resolution_failed(entry, path, errno);
    }
    return Parent{std::move(p.dir), std::move(p.leaf)};
}

UniqueFd SafeRoot::open_dir(const std::vector<std::string>& components, bool create,
                            std::string_view entry) const {
    const std::string path = components.empty() ? std::string("/") : join_path(components);
    UniqueFd dir =
        create ? make_dirs_in_root(root_.get(), path, InRootEscape::kRefuse)
               : open_in_root(root_.get(), path, O_PATH | O_DIRECTORY, 0, InRootEscape::kRefuse);
    if (!dir) {
        if (errno == ENOENT && !create) return dir;
        resolution_failed(entry, path, errno);
    }
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
