// Layer application: a layer tar (any compression) → a directory, with OCI
// whiteout semantics, refusing every entry that would land outside the target.
#pragma once

#include <filesystem>
#include <optional>

#include "store/digest.hpp"

namespace strata::store {

enum class WhiteoutMode {
    // For a merged rootfs: `.wh.<name>` deletes <name> from lower layers,
    // `.wh..wh..opq` empties the directory of lower-layer content.
    kApply,
    // For layers/<diffID>/ used as overlay lowerdirs: `.wh.<name>` becomes a
    // char device 0:0, `.wh..wh..opq` the opaque xattr on the directory.
    kOverlay,
};

struct ApplyOptions {
    WhiteoutMode whiteouts = WhiteoutMode::kApply;
    // chown entries to their numeric uid/gid (needs root, or a user namespace).
    bool same_owner = true;
    // kOverlay: mark opaque dirs with user.overlay.opaque (for overlay mounted
    // with `userxattr`, rootless) instead of trusted.overlay.opaque.
    bool user_xattr_overlay = false;
    // When set, the diffID must match (kCorrupt otherwise, after applying:
    // apply into a scratch directory when that matters).
    std::optional<Digest> expected_diff_id;
};

// Applies the layer tar read from `fd` onto `target` (an existing directory).
// Refuses, with Error(kCorrupt) naming the entry: absolute paths, `..`
// components, paths that resolve through a symlink to outside the target,
// hardlinks whose target is outside, and truncated or corrupt streams.
// Symlinks are resolved inside the target like a chroot would (an absolute
// link target means the target's root); resolving above the root is refused.
// Returns the diffID (sha256 of the uncompressed tar), computed while reading.
Digest apply_layer(int fd, const std::filesystem::path& target, const ApplyOptions& opts = {});
Digest apply_layer(const std::filesystem::path& tar, const std::filesystem::path& target,
                   const ApplyOptions& opts = {});

}  // namespace strata::store
