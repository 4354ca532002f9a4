// LayerStore — unpacked layers under <root>/layers/<diffID hex>/, in overlay
// format (whiteouts as char 0:0, opaque dirs by xattr), ready to be overlay
// lowerdirs. A layer is unpacked into a temp dir under <root>/tmp and renamed
// into place, so a present layers/<hex>/ is always complete.
//
// Durability without a syncfs per layer: an unpacked layer can always be
// made again from its blob (which is fsynced), so layers/<hex>/ is renamed
// into place without flushing its files, and a marker layers/<hex>.unsynced
// holding the boot ID is written (and fsynced) first. While the machine has
// not rebooted, the page cache holds whatever was not written out and the
// layer is trusted; after a reboot (another boot ID) a marked layer may be
// torn, so it is set aside and unpacked again. A syncfs costs ~100 ms on a
// busy disk — a sixth of a cold 10,000-file build.
//
// Directories that lose a race or are replaced go to <root>/tmp/trash-*
// instead of being deleted on the spot: ext4 skips recently freed inodes
// when it allocates new ones, so deleting 10,000 files makes the next build
// that creates 10,000 files several times slower. `strata prune` removes
// them. A duplicate whose removal frees fewer than 1,024 inodes (a small
// step, or a COPY whose unchanged files are links into the previous layer)
// is deleted at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
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
    // How many trash directories there are (counting stops at `up_to`).
    size_t trash_count(size_t up_to = SIZE_MAX) const;

  private:
    std::filesystem::path marker(const Digest& diff_id) const;
    // Whether layers/<hex>/ may be used: no marker, or one from this boot.
    bool trusted(const Digest& diff_id) const;
    // Moves `dir` into the trash.
    void discard(const std::filesystem::path& dir) const;

    std::filesystem::path root_;
    ContentStore& blobs_;
    LayerStoreOptions opts_;
    // Layers this process found (or made) complete and trusted: a build asks
    // for the whole parent chain at every step, and layers never change.
    mutable std::mutex known_mu_;
    mutable std::set<Digest> known_;
};

}  // namespace strata::store
