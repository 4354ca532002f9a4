// LayerStore — unpacked layers under <root>/layers/<diffID hex>/, in overlay
// format (whiteouts as char 0:0, opaque dirs by xattr), ready to be overlay
// lowerdirs. A layer is unpacked into a temp dir under <root>/tmp and renamed
// into place, so a present layers/<hex>/ is always complete.
//
// Durability without a sync per layer: an unpacked layer can always be made
// again from its blob (which is fsynced), so layers/ as a whole belongs to
// one boot of the machine. Its stamp layers/.boot (the boot ID, written and
// fsynced once per boot) says which; while the machine has not rebooted the
// page cache holds whatever was not written out, so a layer is renamed into
// place without flushing its files or the rename. The first strata process
// of a new boot finds another boot's stamp and moves all of layers/ to the
// trash: any layer may be torn, and each is unpacked again from its blob
// when needed. (A syncfs costs ~100 ms on a busy disk — a sixth of a cold
// 10,000-file build; a durable marker per layer cost two fsyncs.) Without a
// boot ID, each layer is synced (syncfs) before its rename.
//
// Directories that lose a race or are replaced go to <root>/tmp/trash-*
// instead of being deleted on the spot: ext4 skips recently freed inodes
// when it allocates new ones, so deleting 10,000 files makes the next build
// that creates 10,000 files several times slower. `strata prune` removes
// them. A duplicate whose removal frees fewer than 1,024 inodes (a small
// step, or a COPY whose unchanged files are links into the previous layer)
// is deleted at once.
//
// Chains that repeat a layer (`RUN true` twice, the same COPY in two places:
// the same diffID at two positions) cannot mount layers/<hex>/ twice: the
// kernel refuses one directory twice among an overlay's lower layers. The
// n-th occurrence (n >= 2) of a diffID in a chain gets its own directory,
// layers/<hex>.<n>/, a copy whose files are hard links into layers/<hex>/
// (layer_copy.hpp); made on first need, kept while the layer is, shared by
// every chain that repeats the layer n times. docs/store-layers.md.
//
// A layer need not be unpacked to exist: a COPY writes its tar straight
// from the source files, and layers/<hex>/ is made from the blob the first
// time something needs the directory (ensure_unpacked / ensure_chain: a
// RUN's overlay, COPY --from, a later COPY's view of the image, an export).
// layers/<hex>.lock (there only while it is held) serialises the unpackers
// of one layer, across threads and processes; the rename into place keeps a
// present directory complete.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/content_store.hpp"
#include "store/digest.hpp"

namespace strata::store {

// A layer of a chain: the blob it is unpacked from, and its diffID.
struct ChainLayer {
    Digest blob;
    Digest diff_id;
};

// A second (third, …) directory of a layer: layers/<hex>.<occurrence>/.
struct LayerCopy {
    Digest diff_id;
    unsigned occurrence = 2;
    auto operator<=>(const LayerCopy&) const = default;
};

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
    // Layer `diff_id` was just written by this process (its blob hashed as it
    // was written), and is not unpacked yet. When this process unpacks it,
    // the diffID is not hashed again (as a layer directory adopted from a
    // build was never checked against its tar either), and a file that is the same
    // (bytes and metadata) at the same path in layer `like` (the previous
    // build's result of the same COPY) is hard-linked from layers/<like>/
    // instead of written — if `like` is then unpacked and trusted. Both are
    // read-only lower layers, as in layer copies (layer_copy.hpp). A rebuild
    // after an edit then writes only what changed.
    void note_written(const Digest& diff_id, const std::optional<Digest>& like);
    // Regular files linked from a `like` layer by this process's unpacks.
    uint64_t files_linked() const { return linked_.load(); }
    // Moves an already populated overlay-format directory (e.g. a committed
    // upperdir, on the same filesystem) into place as layers/<diff_id>/.
    // If the layer exists already, `dir` is removed instead.
    std::filesystem::path adopt(const std::filesystem::path& dir, const Digest& diff_id);
    // Removes the layer and its copies; missing is not an error.
    void remove(const Digest& diff_id);
    std::vector<Digest> list() const;  // sorted; the layers, not their copies

    // Directories for `chain` (lowest first), unpacked as needed and all
    // distinct, so that they can be one overlay's lower layers: the first
    // occurrence of a diffID is layers/<hex>/, a repeat its copy.
    std::vector<std::filesystem::path> ensure_chain(const std::vector<ChainLayer>& chain);
    // layers/<hex>/ for occurrence 1, else layers/<hex>.<occurrence>/.
    std::filesystem::path path(const Digest& diff_id, unsigned occurrence) const;
    // Makes copy `occurrence` (>= 2) of the unpacked layer unless it exists.
    std::filesystem::path ensure_copy(const Digest& diff_id, unsigned occurrence);
    std::vector<LayerCopy> list_copies() const;  // sorted
    void remove_copy(const LayerCopy& copy);     // missing is not an error
    // How many trash directories there are (counting stops at `up_to`).
    size_t trash_count(size_t up_to = SIZE_MAX) const;

  private:
    // Whether layers/<name>/ (a layer or a copy) is there.
    bool present(const std::string& name) const;
    // layers/.boot, and whether it holds this boot's ID.
    std::filesystem::path boot_stamp() const;
    bool stamped_this_boot() const;
    // Makes layers/ this boot's (see above): another boot's layers go to the
    // trash, the stamp is written. Once per boot and store.
    void claim_for_this_boot();
    // note_written's entry for `diff_id`: none when not written here.
    std::optional<std::optional<Digest>> written_like(const Digest& diff_id) const;
    // layers/<name>.lock: held (flock) while layers/<name>/ is being made,
    // so that it is made once when several want it at the same moment;
    // there only while someone makes it.
    std::filesystem::path lock_path(const std::string& name) const;
    // Renames the complete directory `dir` to layers/<name>/ (see above).
    std::filesystem::path publish(const std::filesystem::path& dir, const std::string& name);
    // Moves layers/<name>/ out of layers/ and deletes it.
    void remove_dir(const std::string& name);
    // Moves `dir` into the trash.
    void discard(const std::filesystem::path& dir) const;

    std::filesystem::path root_;
    ContentStore& blobs_;
    LayerStoreOptions opts_;
    // Layers this process found (or made) complete and trusted: a build asks
    // for the whole parent chain at every step, and layers never change.
    mutable std::mutex known_mu_;
    mutable std::set<std::string> known_;  // directory names under layers/
    // note_written: layers this process wrote, and their `like` (if any);
    // guarded by known_mu_.
    std::map<Digest, std::optional<Digest>> written_;
    std::atomic<uint64_t> linked_{0};
};

}  // namespace strata::store
