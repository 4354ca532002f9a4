// What a container changed (`strata diff CTR`, docker diff): read from its
// overlay upper directory alone, against the image's layers below it.
//
// The upper directory is in overlay's format: a deleted file is a character
// device 0:0, a directory that replaced the one below carries the opaque
// xattr (trusted.overlay.opaque, or user.overlay.opaque with `userxattr`).
// The rules are Docker's overlay2 ones (moby pkg/archive OverlayChanges):
//   - the upper dir is walked depth first, each directory's names sorted
//     bytewise (Go's filepath.Walk), and changes come out in that order;
//   - a whiteout is `D path`; an opaque directory that the layers below have
//     is `D path` too (it was deleted and made again), its entries follow;
//   - anything else is `C path` when the layers below have the path, else
//     `A path`; a directory present below with the same size, mode and mtime
//     is no change (only a parent of something changed, copied up);
//   - the parent of an `A` or `D` entry is listed as `C` before it unless it
//     was listed already (Docker's PR 13590).
// Mount points the sandbox made in the upper dir (mount_stubs) are skipped.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace strata::containers {

struct Container;

enum class ChangeKind { kModify, kAdd, kDelete };

struct FsChange {
    std::string path;  // absolute in the container: "/etc/passwd"
    ChangeKind kind = ChangeKind::kModify;
    bool operator==(const FsChange&) const = default;
};

// 'C', 'A' or 'D', as docker diff prints them.
char change_letter(ChangeKind kind);

// The entry at `rel` ("etc/passwd", relative, no leading '/') in the merged
// view of `lower` (overlay-format directories, lowest first): whiteouts,
// opaque directories and files hiding a directory below honoured, never
// following a symlink. nullopt when the merged view has nothing there.
std::optional<struct stat> lower_entry(const std::vector<std::filesystem::path>& lower,
                                       std::string_view rel);

// The entries of `upper` (relative paths) that are only there because the
// sandbox made them as mount points: for each of `mount_points` (absolute
// paths in the container: bind, volume and tmpfs targets, /etc/hosts,
// /etc/resolv.conf, /dev, /proc, /sys), an empty regular file or empty
// directory the layers below do not have (or have with the same type, mode
// and owner), and each parent directory made or copied up for it that holds
// nothing else (and whose mode and owner did not change). Never a change,
// never part of a commit or an export.
std::set<std::string> mount_stubs(const std::vector<std::filesystem::path>& lower,
                                  const std::filesystem::path& upper,
                                  const std::vector<std::string>& mount_points);

// The mount points the sandbox makes for `c`: its mounts' targets and the
// fixed ones (/dev, /proc, /sys, /etc/hosts, /etc/resolv.conf, /etc/hostname).
std::vector<std::string> container_mount_points(const Container& c);

// The changes in `upper` over `lower`, in docker diff's order (see above);
// `skip` (from mount_stubs) are left out.
std::vector<FsChange> upper_changes(const std::vector<std::filesystem::path>& lower,
                                    const std::filesystem::path& upper,
                                    const std::set<std::string>& skip = {});

// "C /etc\nA /etc/new\n": one line per change.
std::string render_changes(const std::vector<FsChange>& changes);

}  // namespace strata::containers
