// ImageStore — images and their names on top of the content store.
//
// On disk (docs/store.md):
//   <root>/blobs/sha256/<hex>     blobs: layers, configs, manifests (ContentStore)
//   <root>/layers/<diffID hex>/   unpacked layers (LayerStore)
//   <root>/images/<hex>.json      one record per image, by manifest digest
//   <root>/names.json             NAME:TAG → manifest digest (NameIndex)
//   <root>/tmp/                   staging; anything here is garbage unless a
//                                 process holding a lease is using it
//   <root>/cache/                 the build cache (later)
//   <root>/lock, <root>/gc.lock   the two flock files below
//
// Concurrency: several strata processes share a store.
//   - `lock` is the writer lock: every change of records or names happens in a
//     Transaction, which holds it exclusively, re-reads the names, applies its
//     changes and publishes them with atomic renames.
//   - `gc.lock` keeps garbage collection away from work in progress: anything
//     that writes blobs or staging data not yet referenced by an image holds a
//     lease (a shared lock) until its Transaction has committed; prune and the
//     removal of images take it exclusively. Order: gc.lock before lock.
// Readers take no lock: every file is replaced atomically, and the publish
// order (blobs → record → names; removal in reverse) means a name always
// points at a complete image, even after a kill -9 at any point.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/atomic_file.hpp"
#include "base/lock_file.hpp"
#include "store/content_store.hpp"
#include "store/digest.hpp"
#include "store/image_config.hpp"
#include "store/image_store_record.hpp"
#include "store/layer_store.hpp"
#include "store/manifest.hpp"
#include "store/name_index.hpp"
#include "store/name_index_reference.hpp"

namespace strata::store {

// The result of looking up "NAME[:TAG]", "NAME@DIGEST", an ID or an ID prefix.
struct ImageMatch {
    ImageRecord image;
    std::optional<Reference> name;  // the NAME:TAG that matched, when looked up by name
    bool by_id = false;             // matched an image ID (config digest) or its prefix
};

class ImageStore {
  public:
    // Opens (and creates, when missing) the store at `root`. Permission and
    // disk errors name the path. The directory is made or checked by
    // prepare_store_root (store_root.hpp): only its owner may enter it.
    explicit ImageStore(std::filesystem::path root, LayerStoreOptions layer_options = {});
    ImageStore(const ImageStore&) = delete;
    ImageStore& operator=(const ImageStore&) = delete;

    const std::filesystem::path& root() const { return root_; }
    // The line prepare_store_root returned when it tightened the store's
    // mode ("" when not): the CLI prints it.
    const std::string& root_warning() const { return root_warning_; }
    ContentStore& content() { return *content_; }
    const ContentStore& content() const { return *content_; }
    LayerStore& layers() { return *layers_; }
    std::filesystem::path tmp_dir() const { return root_ / "tmp"; }
    std::filesystem::path cache_dir() const { return root_ / "cache"; }
    std::filesystem::path images_dir() const { return root_ / "images"; }
    std::filesystem::path names_file() const { return root_ / "names.json"; }

    // --- locks -----------------------------------------------------------
    // Shared lock on gc.lock: hold it while writing blobs or staging data
    // that no image references yet, until the Transaction publishing them
    // has committed.
    [[nodiscard]] LockFile lease() const;
    // Exclusive lock on gc.lock: no lease is held anywhere (prune, rmi).
    [[nodiscard]] LockFile gc_exclusive() const;

    // --- changes -----------------------------------------------------------
    class Transaction {
      public:
        Transaction(Transaction&&) noexcept;
        Transaction& operator=(Transaction&&) = delete;
        ~Transaction();  // without commit(): nothing changes

        const NameIndex& names() const { return names_; }
        // The image as it will be after commit (pending puts and removals count).
        std::optional<ImageRecord> image(const Digest& manifest) const;
        std::vector<ImageRecord> images() const;

        // Adds or replaces an image record. Its blobs must be in the content store.
        void put_image(const ImageRecord& record);
        // Points `name` (NAME:TAG, see Reference::with_default_tag) at an
        // image (Error kNotFound when there is no such image); returns the
        // digest the name pointed at before, if any.
        std::optional<Digest> tag(const Reference& name, const Digest& manifest);
        bool untag(const Reference& name);
        // Removes the image record and every name pointing at it. Its blobs
        // stay (prune frees them). Call with gc_exclusive() held, so that a
        // concurrent `store check` or lease holder never sees it vanish.
        void remove_image(const Digest& manifest);

        // Publishes: new records, then names, then record removals — each an
        // atomic rename, so a crash in between leaves a readable store.
        void commit();

      private:
        friend class ImageStore;
        Transaction(ImageStore& store, LockFile lock);
        ImageStore* store_;
        LockFile lock_;
        NameIndex names_;
        bool names_dirty_ = false;
        std::map<Digest, ImageRecord> puts_;
        std::set<Digest> removes_;
        bool done_ = false;
    };
    // Takes the writer lock (blocks) and reads the current names.
    [[nodiscard]] Transaction begin();

    // --- reads (no lock) -----------------------------------------------------
    // All image records, sorted by manifest digest. Unreadable records are
    // skipped and described in `problems` when given.
    std::vector<ImageRecord> images(std::vector<std::string>* problems = nullptr) const;
    std::optional<ImageRecord> image(const Digest& manifest) const;
    NameIndex names() const;
    // Looks up "NAME[:TAG]" (default tag latest), "NAME@sha256:…" (by
    // manifest digest), "sha256:<hex>" (image ID or manifest digest) or an ID
    // prefix, as Docker does. Error(kNotFound) "No such image: …".
    ImageMatch lookup(std::string_view text) const;
    ImageMatch lookup(std::string_view text, const NameIndex& names,
                      const std::vector<ImageRecord>& images) const;

    std::string config_json(const ImageRecord& image) const;  // verified blob bytes
    ImageConfig config(const ImageRecord& image) const;
    Manifest manifest(const ImageRecord& image) const;

    // Fills in the unpacked sizes `image` lacks. A pulled layer is checked
    // as containerd checks it: its blob against its digest while it streams,
    // its content (paths, diffID) when first read — unpacked, or measured
    // here for `images`, `inspect` and `history`. Scans each unmeasured
    // layer's blob once (scan_layer_blob) and records the size in every
    // image record holding that layer; Error(kCorrupt) naming the layer and
    // the image when its tar is not the diffID the image's config says.
    ImageRecord measure(const ImageRecord& image);

    // --- making images -------------------------------------------------------
    // Writes `config` and an OCI manifest over `layers` (whose blobs must be
    // in the content store) as blobs and returns the record to publish with
    // Transaction::put_image. config.diff_ids is filled from `layers` when
    // empty and must match them otherwise. Hold a lease.
    ImageRecord write_image(const ImageConfig& config, const std::vector<LayerRecord>& layers,
                            const std::map<std::string, std::string>& annotations = {});
    // The record for a manifest already in the content store, with its
    // config and layer blobs; `layers` gives diffIDs and unpacked sizes in
    // manifest order. Checks that the manifest and config agree.
    ImageRecord record_for_manifest(const Digest& manifest,
                                    const std::vector<LayerRecord>& layers) const;

  private:
    std::filesystem::path record_path(const Digest& manifest) const;
    // The record's file, written and fsynced, to be renamed into place.
    AtomicFile prepare_record(const ImageRecord& record) const;
    void delete_record(const Digest& manifest);

    std::filesystem::path root_;
    std::string root_warning_;
    std::unique_ptr<ContentStore> content_;
    std::unique_ptr<LayerStore> layers_;
};

// The image's ID as `docker images` shows it: 12 hex characters.
std::string short_id(const Digest& id);

}  // namespace strata::store
