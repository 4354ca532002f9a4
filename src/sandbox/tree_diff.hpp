// Layers without overlayfs (chroot isolation): the merged view of a chain of
// layers copied into a private directory, and, after the step ran there,
// the step's layer computed by comparing that directory with the merged
// view again — written in overlay's own upper-directory format (whiteouts
// as character devices 0:0, replaced directories opaque by xattr), so that
// the rest of strata cannot tell it from an overlay upper directory.
//
// The layers are strata's own (trusted paths); the tree the step changed is
// not: it is walked by descriptors, never following a symlink.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace strata::sandbox {

// What materialize_layers() saw of its own copy, so that diff_tree() can skip
// what the step did not touch without reading it.
struct TreeSnapshot {
    // After the copy ended: every entry strata wrote has a ctime not after
    // it, every change the step makes one after it (the ctime cannot be set
    // from user space).
    timespec taken{};
    // Each directory by its path ("" = the root): a directory with another
    // inode or birth time at a path was removed and made again (or moved
    // there), which overlay records as an opaque directory. The birth time
    // tells a new directory that got the old one's inode number back (ext4
    // reuses a freed inode at once); on a filesystem without birth times
    // such a directory is taken for the old one (a non-opaque directory and
    // whiteouts: the same content, another layer).
    struct DirId {
        ino_t ino = 0;
        int64_t btime_sec = 0;
        uint32_t btime_nsec = 0;
        bool has_btime = false;
        bool operator==(const DirId&) const = default;
    };
    std::map<std::string, DirId> dirs;
    // Entries strata itself added to the copy for the run (device nodes,
    // heredoc scripts, by path from the root): not the step's, left out.
    std::set<std::string> ignore;
};

struct CopyStats {
    uint64_t files = 0, dirs = 0, others = 0, bytes = 0;
    uint64_t reflinked = 0;   // regular files cloned by FICLONE (no data copied)
    uint64_t hardlinked = 0;  // links inside one layer, kept as links
};

// The identity of the directory `name` in `dirfd` ("" = `dirfd` itself).
TreeSnapshot::DirId dir_id_at(int dirfd, const std::string& name);

// Copies the merged view of `lower` (lowest first, in overlay format) into
// the empty directory `dest`: contents, type, mode, owner, times, xattrs
// (overlay's own left out), hard links within a layer. Regular files are
// reflinked (FICLONE) where the filesystem can, else copied: never hard
// linked, since the step may change a file in place.
TreeSnapshot materialize_layers(const std::vector<std::filesystem::path>& lower,
                                const std::filesystem::path& dest, CopyStats* stats = nullptr);

// Writes into the empty directory `upper` the layer that turns the merged
// view of `lower` into `tree`: added and changed entries copied, removed ones
// as whiteouts, replaced directories (another inode than the snapshot's, or
// a directory where the layers have something else) as opaque directories
// holding their whole content. `opaque_xattr` is overlay's marker name
// (trusted.overlay.opaque, or user.overlay.opaque in a user namespace).
//
// What is compared (lower entry vs the tree's): type, st_mode (permission
// and setuid/setgid/sticky bits), uid, gid, mtime (ns), xattrs other than
// overlay's, and then by type: a regular file's size, and its content when
// size and mtime are equal; a symlink's target; a device's number. atime
// and ctime are not compared (atime changes on read, ctime on our copy).
// With a snapshot, an entry whose ctime is not after `taken` and whose stat
// fields agree is known to be untouched and its content is not read.
void diff_tree(const std::vector<std::filesystem::path>& lower, const std::filesystem::path& tree,
               const std::filesystem::path& upper, const TreeSnapshot* snapshot,
               const std::string& opaque_xattr = "trusted.overlay.opaque",
               CopyStats* stats = nullptr);

}  // namespace strata::sandbox
