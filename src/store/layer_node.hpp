// Internal to the layer writer (layer_writer.cpp, layer_read_ahead.cpp): one
// entry of the tar being written, and the file operations both use on it.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/unique_fd.hpp"
#include "store/layer_writer.hpp"

namespace strata::store::layer_detail {

// One tar entry to emit: found by the walk, or a LayerFile (kFile).
struct Node {
    enum class Kind { kPlain, kWhiteout, kOpaque, kFile };
    std::string name;    // tar path, no trailing slash
    std::string source;  // path in the tree, relative to its root
    Kind kind = Kind::kPlain;
    struct stat st {};
    std::vector<std::pair<std::string, std::string>> xattrs;
    const LayerFile* file = nullptr;  // kFile
};

// The layer xattrs of the file at `path`, or of the descriptor `fd` when
// `path` is null; sorted by name. `shown` names the file in errors.
std::vector<std::pair<std::string, std::string>> read_layer_xattrs(const char* path, int fd,
                                                                   const std::string& shown);

// Opens the walked file `node.source` below `rootfd` (the tree `root`) for
// reading, never following a symlink.
UniqueFd open_tree_file(int rootfd, const Node& node, const std::filesystem::path& root);

// A LayerFile's bytes, ready to read: its StoredBytes when the header before
// them agrees (LayerFile::stored), else its source, opened, with its xattrs.
struct OpenedFile {
    UniqueFd own;
    std::shared_ptr<const UniqueFd> shared;  // StoredBytes::blob
    uint64_t base = 0;                       // where the bytes start in fd()
    std::vector<std::pair<std::string, std::string>> xattrs;
    bool stored = false;
    int fd() const { return shared ? shared->get() : own.get(); }
};
OpenedFile open_layer_file(const LayerFile& file);
// Its source only (LayerFile::open), with its xattrs.
OpenedFile open_layer_source(const LayerFile& file);

// Whether the 512 bytes at `h` are the ustar header of a regular file of
// `size` bytes with a valid checksum; the same for the 512 bytes before
// `offset` in `fd`.
bool regular_file_header(const unsigned char* h, uint64_t size);
// Whether the ustar header at `h` names `name` (its name field, or its
// prefix and name fields joined by '/'); a PAX path is not looked at.
bool header_names(const unsigned char* h, std::string_view name);
bool regular_file_header_before(int fd, uint64_t offset, uint64_t size);

// kConflict: `path` ended before its size in the stat that made its header.
[[noreturn]] void file_shrank(const std::string& path);

}  // namespace strata::store::layer_detail
