// What `strata diff` keeps of one layer: per tar entry, its metadata and the
// sha256 of its content (never the content itself, except small text files
// for the unified diff). A layer of any size costs a few hundred bytes per
// entry.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace strata::diff {

enum class EntryType { kFile, kDir, kSymlink, kChar, kBlock, kFifo, kSocket, kWhiteout, kOpaque };

// "file", "dir", "symlink", "char device", ..., "whiteout", "opaque marker".
const char* entry_type_name(EntryType t);

struct FileEntry {
    // Absolute and clean ("/etc/passwd"; "/" for the root). A whiteout has
    // the path it deletes; an opaque marker the path "<dir>/.wh..wh..opq".
    std::string path;
    EntryType type = EntryType::kFile;
    uint32_t mode = 0;  // permission bits with setuid/setgid/sticky (07777)
    int64_t uid = 0, gid = 0;
    int64_t size = 0;      // regular files
    std::string sha256;    // regular files: hex of the content
    int64_t mtime = 0;     // seconds
    int64_t mtime_ns = 0;  // nanoseconds within the second
    std::string link;      // symlink target
    std::string hardlink;  // the path this entry is a hard link to ("" if none)
    std::map<std::string, std::string> xattrs;  // name → value (raw bytes)
    uint32_t dev_major = 0, dev_minor = 0;      // device nodes
    // The content of a small text file (≤ kTextLimit bytes, no NUL), for
    // the unified diff; nullopt otherwise or when the budget ran out.
    std::optional<std::string> text;
};

inline constexpr int64_t kTextLimit = 64 * 1024;

// One layer's entries, by path (a later entry of the same path replaces an
// earlier one, as when the tar is applied).
struct LayerFiles {
    std::map<std::string, FileEntry> entries;
    std::string order_digest;  // sha256 over the entry names in tar order
    uint64_t tar_entries = 0;  // entries as they appear in the tar
};
using LayerFilesPtr = std::shared_ptr<const LayerFiles>;

// Budget of small text contents one image may keep in memory, so that memory
// stays bounded whatever the image holds; files past it are compared by
// digest only.
inline constexpr int64_t kTextBudget = 32 * 1024 * 1024;

}  // namespace strata::diff
