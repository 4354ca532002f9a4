// link_layer_tree — a second directory for an unpacked layer that shares
// its files: new directories (owner, mode, xattrs such as the overlay opaque
// marker, times), every other entry a hard link to the original's inode.
//
// Why: overlayfs refuses the same directory twice among one mount's lower
// layers (ELOOP, "conflicting lowerdir path" — it checks the directory
// inode, so neither a symlink nor a bind mount to it helps), and a chain of
// layers can hold the same diffID twice. It checks only the layer roots and
// directories met during lookup, never files, so hard-linked files are fine.
// Layers are never modified (a RUN copies up into its own upper directory),
// so sharing inodes between them is safe.
//
// A file that has reached the filesystem's link limit (EMLINK; ext4: 65,000)
// is copied instead (a reflink where the filesystem offers one).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace strata::store {

struct LinkTreeStats {
    uint64_t dirs = 0;    // directories made (the root included)
    uint64_t linked = 0;  // entries hard-linked
    uint64_t copied = 0;  // entries copied (link limit reached)
};

// Fills the existing, empty directory `to` with a copy of `from` as above;
// `to` itself gets `from`'s owner, mode, xattrs and times. `same_owner`:
// give new directories and copied entries the original's uid/gid (needs
// root; otherwise they belong to the caller, as the original then does).
LinkTreeStats link_layer_tree(const std::filesystem::path& from, const std::filesystem::path& to,
                              bool same_owner);

// The first difference between layer directory `from` and its copy `to`, ""
// when none: the same names and types; directories with the same mode,
// owner and xattrs; other entries the same inode (or, where copied, the
// same type, mode, owner and size). For `strata store check`.
std::string compare_layer_tree(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace strata::store
