#include "executor/copy/dest_state.hpp"

#include "base/error.hpp"
#include "executor/copy/path_parts.hpp"

namespace strata::executor {

LayerTree::Dir DestState::ensure_dir(const std::string& path, const Owner& owner,
                                     const struct timespec& created_mtime, uint32_t created_mode) {
    LayerTree::Dir dir = tree_.root();
    std::optional<Node> below = parent_.root();
    for (const auto& name : split_path(path)) {
        if (name == "..") throw Error(ErrorKind::kInternal, "'..' in canonical path " + path);
        std::optional<Node> below_child;
        if (below) {
            below_child = parent_.child(*below, name);
            if (below_child && below_child->type != FileType::kDirectory) {
                // Shadowed by a directory the layer already has? Then fine.
                auto st = tree_.lstat(dir, name);
                if (!st || !S_ISDIR(st->st_mode))
                    throw Error(ErrorKind::kConflict,
                                "mkdir " + below_child->path + ": not a directory");
                below_child.reset();
            }
        }
        if (auto st = tree_.lstat(dir, name)) {
            if (!S_ISDIR(st->st_mode))
                throw Error(ErrorKind::kConflict,
                            "mkdir " + (dir.path == "/" ? "/" + name : dir.path + "/" + name) +
                                ": not a directory");
            dir = tree_.open_dir(dir, name);
        } else if (below_child) {
            EntryMeta meta;
            meta.mode = below_child->st.st_mode & 07777;
            meta.uid = below_child->st.st_uid;
            meta.gid = below_child->st.st_gid;
            meta.mtime = below_child->st.st_mtim;
            dir = tree_.make_dir(dir, name, meta, false);
            UniqueFd src = parent_.open_directory(*below_child);
            tree_.copy_dir_xattrs(src.get(), dir);
            tree_.defer_mtime(dir.path, meta.mtime);
        } else {
            EntryMeta meta;
            meta.mode = created_mode;
            meta.uid = owner.uid;
            meta.gid = owner.gid;
            meta.mtime = created_mtime;
            dir = tree_.make_dir(dir, name, meta, false);
            tree_.defer_mtime(dir.path, created_mtime);
        }
        below = std::move(below_child);
    }
    return dir;
}

std::optional<Node> DestState::parent_dir(const std::string& path) const {
    auto n = parent_.lookup(path, false);
    if (n && n->type == FileType::kDirectory) return n;
    return std::nullopt;
}

std::optional<Node> DestState::lstat(const std::string& path) const {
    return merged_.lookup(path, false);
}

}  // namespace strata::executor
