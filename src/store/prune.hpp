// Garbage collection: `strata prune` frees blobs, unpacked layers and staging
// leftovers that nothing references, and `strata rmi` frees what the images
// it removed leave unreferenced.
//
// Roots are the image records, plus whatever a GcParticipant adds. The build
// cache (<root>/cache/, a later issue) is meant to be one: it registers a
// participant that drops its unusable entries and names the blobs and layers
// its remaining entries keep alive (see make_gc_participants in the CLI).
//
// Both run under gc.lock held exclusively (no lease anywhere, so nothing in
// <root>/tmp is in use) and the writer lock while they change records.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/digest.hpp"
#include "store/image_store.hpp"

namespace strata::store {

// What uses an image besides its names: the containers made from it. The
// store knows nothing of containers; the CLI answers from src/containers.
// As in Docker, `rmi` refuses an image a container uses unless forced (a
// running container's, even forced), and `prune --dangling` keeps it.
struct ImageUser {
    std::string container;  // short ID
    bool running = false;
};
using ImageUsers = std::function<std::vector<ImageUser>(const ImageRecord&)>;

struct GcRoots {
    std::set<Digest> blobs;   // blob digests
    std::set<Digest> layers;  // diffIDs of unpacked layers
};

struct PruneReport {
    std::vector<ImageRecord> images;                      // image records removed
    std::vector<Reference> untagged;                      // their names (unused_images)
    std::vector<std::pair<Digest, uint64_t>> blobs;       // blob, bytes
    std::vector<std::pair<Digest, uint64_t>> layers;      // unpacked layer (diffID), bytes
    std::vector<std::pair<std::string, uint64_t>> other;  // e.g. "tmp/load-ab12", cache entries
    uint64_t freed = 0;                                   // total bytes
};

class GcParticipant {
  public:
    virtual ~GcParticipant() = default;
    virtual std::string name() const = 0;
    // Called first, with both locks held: remove own entries that nothing
    // needs any more (given what the images keep alive) and report them in
    // `report.other` / `report.freed`.
    virtual void prune(const GcRoots& image_roots, PruneReport& report) = 0;
    // Then: add the blobs and layers the remaining entries reference.
    virtual void add_roots(GcRoots& roots) const = 0;
};

struct PruneOptions {
    bool dangling_images = false;  // also remove images that have no name (and no container)
    bool unused_images = false;    // also remove every image no container uses, names and all
    // Of those, only the images this accepts (`image prune --filter`); none: all.
    std::function<bool(const ImageRecord&)> image_filter;
    ImageUsers users;
    std::vector<GcParticipant*> participants;
};

PruneReport prune_store(ImageStore& store, const PruneOptions& opts);

// The roots the images keep alive: every blob of every record, every diffID.
GcRoots image_roots(const std::vector<ImageRecord>& images);

// Deletes the blobs and unpacked layers among `candidates` that are not in
// `roots`, adding them to `report`. Caller holds gc_exclusive().
void delete_unreferenced(ImageStore& store, const GcRoots& candidates, const GcRoots& roots,
                         PruneReport& report);

// Bytes used by a file or a tree (apparent sizes, hardlinks counted once).
uint64_t tree_size(const std::filesystem::path& path);

}  // namespace strata::store
