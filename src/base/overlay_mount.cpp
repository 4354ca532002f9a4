#include "base/overlay_mount.hpp"

#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>

namespace strata {

namespace {
constexpr unsigned kSetFlag = 0;    // FSCONFIG_SET_FLAG
constexpr unsigned kSetString = 1;  // FSCONFIG_SET_STRING
constexpr unsigned kCreate = 6;     // FSCONFIG_CMD_CREATE
}  // namespace

bool is_opaque_dir(int dirfd) {
    for (const char* name : {kTrustedOpaqueXattr, kUserOpaqueXattr}) {
        char value[8];
        const ssize_t n = ::fgetxattr(dirfd, name, value, sizeof value);
        if (n == 1 && value[0] == 'y') return true;
    }
    return false;
}

int make_detached_overlay(const OverlaySpec& spec) {
    const int fsfd = static_cast<int>(::syscall(SYS_fsopen, "overlay", 1 /* FSOPEN_CLOEXEC */));
    if (fsfd < 0) return -1;
    auto set = [&](const char* key, const std::string& value) {
        return ::syscall(SYS_fsconfig, fsfd, kSetString, key, value.c_str(), 0) == 0;
    };
    bool ok = true;
    for (const auto& l : spec.lowers)
        ok = ok && set("lowerdir+", l);
    if (!spec.upper.empty()) ok = ok && set("upperdir", spec.upper) && set("workdir", spec.work);
    // Renames of lower directories must copy up, never leave a redirect
    // xattr that a layer tar cannot express. (With `userxattr` the kernel
    // takes only "nofollow", which means the same: redirects are neither
    // made nor followed.)
    set("redirect_dir", spec.userxattr ? "nofollow" : "off");
    set("metacopy", "off");
    if (spec.scratch_upper && !spec.upper.empty())
        ::syscall(SYS_fsconfig, fsfd, kSetFlag, "volatile", nullptr, 0);  // older kernels: without
    if (spec.userxattr)
        ok = ok && ::syscall(SYS_fsconfig, fsfd, kSetFlag, "userxattr", nullptr, 0) == 0;
    int mfd = -1;
    if (ok && ::syscall(SYS_fsconfig, fsfd, kCreate, nullptr, nullptr, 0) == 0)
        mfd = static_cast<int>(::syscall(SYS_fsmount, fsfd, 1 /* FSMOUNT_CLOEXEC */, 0));
    const int err = errno;
    ::close(fsfd);
    errno = err;
    return mfd;
}

}  // namespace strata
