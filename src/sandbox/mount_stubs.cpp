#include "sandbox/mount_stubs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/in_root.hpp"
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

}  // namespace strata::sandbox
