// An overlay made with the new mount API and not attached anywhere: fsopen,
// one "lowerdir+" per layer (so no limit on their number), fsmount. The
// descriptor can be attached in another mount namespace (move_mount), which
// is how strata makes a RUN step's root while strata-init starts, and how
// strata-init makes the overlays it mounts itself. strata-init compiles this
// file in.
#pragma once

#include <string>
#include <vector>

namespace strata {

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
