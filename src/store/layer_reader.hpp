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
    // An earlier unpacked layer (a read-only layers/<diffID>/ of the same
    // store): a regular file entry whose bytes and metadata equal those of the
    // file at the same path there (size, mode, owner, mtime, no xattrs on
    // either, not sparse) is hard-linked from it instead of written. Only for
    // a target that, like that layer, is never modified in place (an overlay
    // lower layer); needs `same_owner`. Empty: every file is written.
    std::filesystem::path link_from;
    // false: the diffID is not computed (apply_layer returns an empty Digest;
    // expected_diff_id must be unset) — for a tar this process just wrote.
    bool compute_diff_id = true;
};

// What apply_layer did with `link_from`.
struct ApplyStats {
    uint64_t files = 0;   // regular files made (linked or written)
    uint64_t linked = 0;  // of those, hard-linked from `link_from`
};

// Applies the layer tar read from `fd` onto `target` (an existing directory).
// Refuses, with Error(kCorrupt) naming the entry: absolute paths, `..`
// components, paths that resolve through a symlink to outside the target,
// hardlinks whose target is outside, and truncated or corrupt streams.
// Symlinks are resolved inside the target like a chroot would (an absolute
// link target means the target's root); resolving above the root is refused.
// Returns the diffID (sha256 of the uncompressed tar), computed while reading.
Digest apply_layer(int fd, const std::filesystem::path& target, const ApplyOptions& opts = {},
                   ApplyStats* stats = nullptr);
Digest apply_layer(const std::filesystem::path& tar, const std::filesystem::path& target,
                   const ApplyOptions& opts = {});

}  // namespace strata::store
