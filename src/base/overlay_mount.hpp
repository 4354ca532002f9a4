// An overlay made with the new mount API and not attached anywhere: fsopen,
// one "lowerdir+" per layer (so no limit on their number), fsmount. The
// descriptor can be attached in another mount namespace (move_mount), which
// is how strata makes a RUN step's root while strata-init starts, and how
// strata-init makes the overlays it mounts itself. strata-init compiles this
// file in.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>
#include <vector>

namespace strata {

// overlayfs's own markers in a layer directory (how a layer tar says the
// same: store/whiteout.hpp). A whiteout is a character device 0:0; a
// directory that hides the one below carries the opaque xattr "y"
// (user.overlay.* instead of trusted.overlay.* with `userxattr`).
inline constexpr const char* kTrustedOpaqueXattr = "trusted.overlay.opaque";
inline constexpr const char* kUserOpaqueXattr = "user.overlay.opaque";

inline bool is_overlay_whiteout(const struct stat& st) {
    return S_ISCHR(st.st_mode) && st.st_rdev == 0;
}

// Whether the directory open as `dirfd` (not O_PATH) is marked opaque.
bool is_opaque_dir(int dirfd);

// overlay's private xattrs (never part of a layer).
inline bool is_overlay_xattr(std::string_view name) {
    return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

struct OverlaySpec {
    std::vector<std::string> lowers;  // topmost first
    std::string upper, work;          // both empty: a read-only overlay
    // In a user namespace (rootless): overlay's own xattrs under
    // user.overlay.* (Linux 5.11+).
    bool userxattr = false;
    // The upper directory is scratch: `volatile` (Linux 5.10+; taken only
    // where the kernel knows it).
    bool scratch_upper = false;
};

// The detached mount's descriptor (close-on-exec), or -1 with errno set when
// the kernel refuses — before Linux 6.8 it does not know "lowerdir+", and
// the caller then mounts the old way.
int make_detached_overlay(const OverlaySpec& spec);

}  // namespace strata
