// Resolving a path that untrusted input controls (a Dockerfile, an image, an
// archive, a registry answer) inside a root directory — the one place that
// does it (DESIGN.md "sandbox/").
//
// The path is resolved as if `root` were `/` of a chroot: `..` stops at the
// root, an absolute symlink starts again at the root, a relative one from
// where it is met, and /proc-style "magic" links are refused. openat2(2)
// with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS does it where the kernel has
// it (Linux ≥ 5.6); elsewhere an equivalent walk, one component at a time
// with O_NOFOLLOW. Nothing here ever joins strings into a host path.
#pragma once

#include <string>
#include <string_view>

#include "base/unique_fd.hpp"

namespace strata {

// Opens `path` (absolute or relative; both mean "from the root") inside the
// directory `root_fd` with `flags` (O_PATH, O_RDONLY | O_DIRECTORY, ...;
// O_CREAT is allowed for the last component). With O_NOFOLLOW a symlink as
// the last component is opened itself (with O_PATH) instead of followed.
// Returns an invalid fd with errno set (ENOENT, ELOOP, ...) on failure.
UniqueFd open_in_root(int root_fd, std::string_view path, int flags, unsigned mode = 0);

// The path cleaned as Go's path.Clean does, made absolute, with every `..`
// that would leave the root dropped: "/../../tmp/x" → "/tmp/x", "a/./b/" →
// "/a/b". What a path means inside a root before any symlink is looked at.
std::string clean_in_root(std::string_view path);

// The parent directory of `path` inside the root, opened O_PATH |
// O_DIRECTORY, and the last component's name (empty for the root itself).
// Missing parents are created 0755 when `create` is set.
struct InRootParent {
    UniqueFd dir;
    std::string leaf;
};
InRootParent open_parent_in_root(int root_fd, std::string_view path, bool create);

}  // namespace strata
