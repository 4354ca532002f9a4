// DestState — the destination side of one COPY/ADD: the new layer being
// written (LayerTree), the parent's filesystem below it, and the merged view
// of both, which is what the instruction's path rules look at ("does /dst
// exist, is it a directory, where does this symlink lead").
//
// Directories the layer needs are made here: one that exists in the parent
// is copied up with the parent's mode, owner, xattrs and mtime (as overlayfs
// does), so the layer records it unchanged; a missing one is created 0755
// with the given owner.
#pragma once

#include <ctime>
#include <optional>
#include <string>

#include "executor/copy/layer_tree.hpp"
#include "executor/copy/owner.hpp"
#include "executor/copy/source_view.hpp"

namespace strata::executor {

class DestState {
  public:
    // `parent` is what is below the layer (empty for COPY --link); `merged`
    // is `parent` with the layer directory on top.
    DestState(LayerTree& tree, const SourceView& parent, const SourceView& merged)
        : tree_(tree), parent_(parent), merged_(merged) {}

    LayerTree& tree() { return tree_; }
    const SourceView& parent() const { return parent_; }
    const SourceView& merged() const { return merged_; }

    // Opens the layer directory at the canonical path `path` (symlinks
    // already resolved), making each missing element: copied up from the
    // parent when it is a directory there, else created `created_mode` owned by
    // `owner` with mtime `created_mtime` (applied at the end). Throws
    // kConflict when an element is not a directory.
    LayerTree::Dir ensure_dir(const std::string& path, const Owner& owner,
                              const struct timespec& created_mtime, uint32_t created_mode = 0755);

    // The parent's directory at canonical `path`, when it is one.
    std::optional<Node> parent_dir(const std::string& path) const;

    // The merged entry at canonical `path` without following a final symlink.
    std::optional<Node> lstat(const std::string& path) const;

  private:
    LayerTree& tree_;
    const SourceView& parent_;
    const SourceView& merged_;
};

}  // namespace strata::executor
