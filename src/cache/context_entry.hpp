// One entry of a build-context snapshot, and the 128-bit hash type used for
// file contents and digests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace strata::cache {

// An XXH3-128 value. `lo`/`hi` are XXH128_hash_t's low64/high64.
struct Hash128 {
    uint64_t lo = 0;
    uint64_t hi = 0;
    bool operator==(const Hash128&) const = default;
    // 32 lowercase hex digits, high half first (XXH128's canonical form).
    std::string hex() const;
};

enum class EntryType : uint8_t {
    kFile,
    kDir,
    kSymlink,
    kFifo,
    kSocket,
    kCharDevice,
    kBlockDevice,
};

// "file", "dir", "symlink", "fifo", "socket", "char-device", "block-device".
std::string_view to_string(EntryType type);

// Fifos, sockets and device nodes: recorded as they are, never read.
inline bool is_special(EntryType type) {
    return type != EntryType::kFile && type != EntryType::kDir && type != EntryType::kSymlink;
}

struct Entry {
    // Relative to the context root, '/'-separated, no leading "./" or '/';
    // "" for the root directory itself. Views into the snapshot's storage.
    std::string_view path;
    std::string_view link_target;  // symlinks only, exactly as readlink returns it
    EntryType type = EntryType::kFile;
    uint32_t mode = 0;  // permission bits and setuid/setgid/sticky (07777)
    uint32_t uid = 0;
    uint32_t gid = 0;
    uint64_t size = 0;  // st_size (files: content length; symlinks: target length)
    uint64_t rdev = 0;  // device nodes only
    Hash128 content;    // regular files only: XXH3-128 of the content
    Hash128 digest;     // see context_digest.hpp: entry digest, for dirs the subtree digest
    // What the walk's lstat saw, part of no digest: the executor's view of
    // the context answers a COPY's lookups from it instead of asking the
    // disk again (executor/copy/source_view.hpp, BuildContext).
    uint64_t dev = 0;
    uint64_t ino = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    uint32_t nlink = 1;
    bool was_socket = false;   // a Unix socket, recorded as an empty regular file
    uint32_t parent = 0;       // index of the parent directory (the root's is 0)
    uint32_t subtree_end = 0;  // one past the last index of this entry's subtree

    // The last path component ("" for the root).
    std::string_view name() const {
        size_t slash = path.rfind('/');
        return slash == std::string_view::npos ? path : path.substr(slash + 1);
    }
};

}  // namespace strata::cache
