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

// What a `..` that would climb above the root does: stay at the root, as in
// a chroot (kClamp), or fail with EXDEV (kRefuse — an archive whose symlink
// points above the extraction target is refused rather than re-rooted).
// Absolute symlinks start again at the root either way.
enum class InRootEscape { kClamp, kRefuse };

// Opens `path` (absolute or relative; both mean "from the root") inside the
// directory `root_fd` with `flags` (O_PATH, O_RDONLY | O_DIRECTORY, ...;
// O_CREAT is allowed for the last component). With O_NOFOLLOW a symlink as
// the last component is opened itself (with O_PATH) instead of followed.
// Returns an invalid fd with errno set (ENOENT, ELOOP, ...) on failure.
// A NUL byte in `path` gives EINVAL, a path of PATH_MAX bytes or more
// ENAMETOOLONG, more than 40 symlinks on the way ELOOP, a magic link ELOOP.
UniqueFd open_in_root(int root_fd, std::string_view path, int flags, unsigned mode = 0,
                      InRootEscape escape = InRootEscape::kClamp);

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
// A symlink met on the way (also a dangling one, when creating) is followed
// inside the root. On failure `dir` is invalid and errno says why (ENOENT
// when a parent is missing and !create; EINVAL when the last component is
// `..`).
InRootParent open_parent_in_root(int root_fd, std::string_view path, bool create,
                                 InRootEscape escape = InRootEscape::kClamp);

// `mkdir -p` inside the root: every missing directory of `path` is created
// 0755 (through symlinks, which are followed inside the root). Returns the
// directory opened O_PATH | O_DIRECTORY, or an invalid fd with errno set.
UniqueFd make_dirs_in_root(int root_fd, std::string_view path,
                           InRootEscape escape = InRootEscape::kClamp);

namespace detail {

// The component-by-component walk open_in_root uses where openat2(2) is
// missing (ENOSYS); exposed so that tests run the same cases through both.
UniqueFd open_in_root_walk(int root_fd, std::string_view path, int flags, unsigned mode = 0,
                           InRootEscape escape = InRootEscape::kClamp);

// Whether this kernel has openat2(2) (asked once).
bool openat2_available();

// For tests: make every open_in_root call (and what is built on it) use the
// walk, as on a kernel without openat2. Not thread-safe against callers.
void force_in_root_walk(bool on);

}  // namespace detail

}  // namespace strata
