// Internal to the layer writer (layer_writer.cpp, layer_read_ahead.cpp): one
// entry of the tar being written, and the file operations both use on it.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <string>
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

// kConflict: `path` ended before its size in the stat that made its header.
[[noreturn]] void file_shrank(const std::string& path);

}  // namespace strata::store::layer_detail
