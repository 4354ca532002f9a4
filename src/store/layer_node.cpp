#include "store/layer_node.hpp"

#include <fcntl.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>

#include "base/error.hpp"
#include "store/whiteout.hpp"

namespace strata::store::layer_detail {

std::vector<std::pair<std::string, std::string>> read_layer_xattrs(const char* path, int fd,
                                                                   const std::string& shown) {
    std::vector<std::pair<std::string, std::string>> out;
    std::string names(1024, '\0');
    ssize_t n;
    for (;;) {
        n = path ? ::llistxattr(path, names.data(), names.size())
                 : ::flistxattr(fd, names.data(), names.size());
        if (n >= 0) break;
        if (errno == ERANGE) {
            names.resize(names.size() * 4);
            continue;
        }
        if (errno == ENOTSUP) return out;
        throw system_error("listxattr", shown);
    }
    names.resize(static_cast<size_t>(n));
    for (size_t i = 0; i < names.size();) {
        std::string name(names.c_str() + i);
        i += name.size() + 1;
        if (!is_layer_xattr(name)) continue;
        std::string value(256, '\0');
        for (;;) {
            ssize_t v = path ? ::lgetxattr(path, name.c_str(), value.data(), value.size())
                             : ::fgetxattr(fd, name.c_str(), value.data(), value.size());
            if (v >= 0) {
                value.resize(static_cast<size_t>(v));
                break;
            }
            if (errno == ERANGE) {
                value.resize(value.size() * 4);
                continue;
            }
            if (errno == ENODATA) {
                value.clear();
                break;
            }
            throw system_error("getxattr " + name, shown);
        }
        out.emplace_back(std::move(name), std::move(value));
    }
    std::sort(out.begin(), out.end());
    return out;
}

UniqueFd open_tree_file(int rootfd, const Node& node, const std::filesystem::path& root) {
    UniqueFd fd(
        ::openat(rootfd, node.source.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME));
    if (!fd && errno == EPERM)  // O_NOATIME needs ownership or CAP_FOWNER
        fd.reset(::openat(rootfd, node.source.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw system_error("open", (root / node.source).string());
    return fd;
}

[[noreturn]] void file_shrank(const std::string& path) {
    throw Error(ErrorKind::kConflict, "file " + path + " shrank while it was being archived");
}

}  // namespace strata::store::layer_detail
