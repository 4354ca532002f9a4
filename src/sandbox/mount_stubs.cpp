#include "sandbox/mount_stubs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "base/in_root.hpp"
#include "base/overlay_mount.hpp"
#include "base/unique_fd.hpp"

namespace strata::sandbox {

void remove_stubs(const std::filesystem::path& upper_dir, const std::vector<std::string>& stubs) {
    if (stubs.empty()) return;
    UniqueFd root(::open(upper_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return;
    for (const auto& stub : stubs) {
        InRootParent parent = open_parent_in_root(root.get(), stub, false);
        if (!parent.dir || parent.leaf.empty()) continue;
        struct stat st {};
        if (::fstatat(parent.dir.get(), parent.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (!S_ISREG(st.st_mode) || st.st_size != 0) continue;
        // O_PATH parents cannot be used for unlinkat: reopen as a directory.
        UniqueFd dir(::openat(parent.dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (dir) ::unlinkat(dir.get(), parent.leaf.c_str(), 0);
    }
}

namespace {

// What one layer directory says about /etc, as far as its stubs go.
struct LayerEtc {
    enum class Kind { kAbsent, kDir, kUnsure } kind = Kind::kUnsure;
    mode_t mode = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    bool opaque = false;  // hides /etc of the layers below
};

bool has_own_xattrs(int fd) {
    char names[1024];
    const ssize_t n = ::flistxattr(fd, names, sizeof names);
    if (n < 0) return errno != ENOTSUP;  // ERANGE: many
    for (ssize_t i = 0; i < n;) {
        const std::string_view name(names + i);
        if (!is_overlay_xattr(name)) return true;
        i += static_cast<ssize_t>(name.size()) + 1;
    }
    return false;
}

LayerEtc inspect_layer(const std::filesystem::path& layer) {
    LayerEtc r;
    UniqueFd root(::open(layer.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root || is_opaque_dir(root.get())) return r;
    struct stat st {};
    if (::fstatat(root.get(), "etc", &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) r.kind = LayerEtc::Kind::kAbsent;
        return r;
    }
    if (!S_ISDIR(st.st_mode)) return r;  // a whiteout, a symlink, a file
    UniqueFd etc(::openat(root.get(), "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!etc || has_own_xattrs(etc.get())) return r;
    for (const char* name : {"hosts", "resolv.conf"}) {
        struct stat f {};
        if (::fstatat(etc.get(), name, &f, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) return r;
    }
    r.kind = LayerEtc::Kind::kDir;
    r.mode = st.st_mode & 07777;
    r.uid = st.st_uid;
    r.gid = st.st_gid;
    r.opaque = is_opaque_dir(etc.get());
    return r;
}

// Kept per path: a layer directory never changes once it is a lower layer,
// and its name is never given to other content (layers/<diffID>, or a
// fresh mkdtemp name for a step's upper while its blob is written).
LayerEtc layer_etc(const std::filesystem::path& layer) {
    static std::mutex mutex;
    static std::unordered_map<std::string, LayerEtc> known;
    {
        std::lock_guard lock(mutex);
        if (auto it = known.find(layer.native()); it != known.end()) return it->second;
    }
    const LayerEtc e = inspect_layer(layer);
    std::lock_guard lock(mutex);
    if (known.size() > 4096) known.clear();
    known.emplace(layer.native(), e);
    return e;
}

}  // namespace

std::vector<std::string> make_etc_stubs(const std::vector<std::filesystem::path>& lower,
                                        const std::filesystem::path& upper_dir) {
    std::optional<LayerEtc> top;
    for (auto it = lower.rbegin(); it != lower.rend(); ++it) {
        const LayerEtc e = layer_etc(*it);
        if (e.kind == LayerEtc::Kind::kUnsure) return {};
        if (e.kind == LayerEtc::Kind::kAbsent) continue;
        if (!top) top = e;
        if (e.opaque) break;
    }
    if (!top) return {};
    UniqueFd upper(::open(upper_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!upper || ::mkdirat(upper.get(), "etc", 0700) != 0) return {};
    std::vector<std::string> made;
    auto undo = [&] {
        for (const char* name : {"etc/hosts", "etc/resolv.conf"})
            ::unlinkat(upper.get(), name, 0);
        ::unlinkat(upper.get(), "etc", AT_REMOVEDIR);
        return std::vector<std::string>{};
    };
    UniqueFd etc(::openat(upper.get(), "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    // Owner first: a chown clears the setgid bit the mode may carry.
    if (!etc || ::fchown(etc.get(), top->uid, top->gid) != 0 || ::fchmod(etc.get(), top->mode) != 0)
        return undo();
    for (const char* name : {"hosts", "resolv.conf"}) {
        UniqueFd f(
            ::openat(etc.get(), name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (!f) return undo();
        made.push_back(std::string("/etc/") + name);
    }
    return made;
}

}  // namespace strata::sandbox
