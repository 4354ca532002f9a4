#include "store/layer_node.hpp"

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

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

bool regular_file_header_before(int fd, uint64_t offset, uint64_t size) {
    unsigned char h[512];
    if (offset < sizeof h) return false;
    const ssize_t n = ::pread(fd, h, sizeof h, static_cast<off_t>(offset - sizeof h));
    return n == static_cast<ssize_t>(sizeof h) && regular_file_header(h, size);
}

bool regular_file_header(const unsigned char* h, uint64_t size) {
    constexpr size_t kBlock = 512;
    // An octal field (NUL- or space-terminated); false when it is not one.
    auto octal = [&h](size_t at, size_t len, uint64_t& out) {
        out = 0;
        size_t i = at;
        while (i < at + len && h[i] == ' ')
            ++i;
        size_t digits = 0;
        for (; i < at + len && h[i] >= '0' && h[i] <= '7'; ++i, ++digits)
            out = out * 8 + (h[i] - '0');
        return digits > 0 && (i == at + len || h[i] == '\0' || h[i] == ' ');
    };
    // The checksum: the header's bytes summed with its own field as spaces.
    uint64_t sum = 8 * ' ', recorded = 0;
    for (size_t i = 0; i < kBlock; ++i)
        sum += h[i];
    for (size_t i = 148; i < 156; ++i)
        sum -= h[i];
    if (!octal(148, 8, recorded) || recorded != sum) return false;
    if (std::memcmp(h + 257, "ustar", 5) != 0) return false;
    if (h[156] != '0' && h[156] != '\0') return false;
    uint64_t recorded_size = 0;
    if (h[124] & 0x80) {  // base-256 (GNU/star), for sizes past 8 GiB
        recorded_size = h[124] & 0x7f;
        for (size_t i = 125; i < 136; ++i)
            recorded_size = recorded_size << 8 | h[i];
    } else if (!octal(124, 12, recorded_size)) {
        return false;
    }
    return recorded_size == size;
}

bool header_names(const unsigned char* h, std::string_view name) {
    const auto field = [h](size_t at, size_t len) {
        const char* p = reinterpret_cast<const char*>(h + at);
        return std::string_view(p, ::strnlen(p, len));
    };
    const std::string_view base = field(0, 100), prefix = field(345, 155);
    if (prefix.empty()) return base == name;
    return name.size() == prefix.size() + 1 + base.size() && name.starts_with(prefix) &&
           name[prefix.size()] == '/' && name.ends_with(base);
}

OpenedFile open_layer_file(const LayerFile& file) {
    OpenedFile out;
    if (file.stored && file.stored->blob &&
        regular_file_header_before(file.stored->blob->get(), file.stored->offset,
                                   static_cast<uint64_t>(file.st.st_size))) {
        out.shared = file.stored->blob;
        out.base = file.stored->offset;
        out.stored = true;
        return out;
    }
    return open_layer_source(file);
}

OpenedFile open_layer_source(const LayerFile& file) {
    OpenedFile out;
    LayerFileSource source = file.open();
    if (source.xattrs) out.xattrs = read_layer_xattrs(nullptr, source.xattrs.get(), file.shown);
    out.own = std::move(source.data);
    return out;
}

[[noreturn]] void file_shrank(const std::string& path) {
    throw Error(ErrorKind::kConflict, "file " + path + " shrank while it was being archived");
}

}  // namespace strata::store::layer_detail
