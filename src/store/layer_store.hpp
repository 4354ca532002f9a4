// LayerStore — unpacked layers under <root>/layers/<diffID hex>/, in overlay
// format (whiteouts as char 0:0, opaque dirs by xattr), ready to be overlay
// lowerdirs. A layer is unpacked into a temp dir under <root>/tmp and renamed
// into place, so a present layers/<hex>/ is always complete.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "store/content_store.hpp"
#include "store/digest.hpp"

namespace strata::store {

struct LayerStoreOptions {
    // chown unpacked files to their tar uid/gid; default: when running as root.
    std::optional<bool> same_owner;
    // Mark opaque dirs with user.overlay.opaque (rootless overlay, `userxattr`).
    bool user_xattr_overlay = false;
};

class LayerStore {
  public:
    LayerStore(std::filesystem::path root, ContentStore& blobs, LayerStoreOptions opts = {});

    bool has(const Digest& diff_id) const;
    std::filesystem::path path(const Digest& diff_id) const;
    // Unpacks blob `blob_digest` (which must be in the content store) unless
    // layers/<diff_id>/ exists; verifies the diffID (kCorrupt). Returns the path.
    std::filesystem::path ensure_unpacked(const Digest& blob_digest, const Digest& diff_id);
    // Moves an already populated overlay-format directory (e.g. a committed
    // upperdir, on the same filesystem) into place as layers/<diff_id>/.
    // If the layer exists already, `dir` is removed instead.
    std::filesystem::path adopt(const std::filesystem::path& dir, const Digest& diff_id);
    void remove(const Digest& diff_id);  // missing is not an error
    std::vector<Digest> list() const;    // sorted

  private:
    std::filesystem::path root_;
    ContentStore& blobs_;
    LayerStoreOptions opts_;
};

}  // namespace strata::store
