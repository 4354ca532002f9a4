// Push: an image from the store to one repository of a registry, as `docker
// push` does it — each blob HEADed first and skipped when the repository has
// it, mounted from another repository of the same registry when the store
// knows one that has it, uploaded otherwise (several at once), the manifest
// last. The image leaves as `strata save` writes it (export_image: layers
// compressed once and memoized), so its digest is the same wherever it goes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "registry/client.hpp"
#include "store/compression.hpp"
#include "store/image_store.hpp"

namespace strata::registry {

// One line of `docker push` progress.
struct PushEvent {
    enum class Kind {
        kPreparing,  // "Preparing"
        kPushing,    // "Pushing": `done` of `total` bytes
        kPushed,     // "Pushed"
        kExists,     // "Layer already exists"
        kMounted,    // "Mounted from `from`"
    };
    Kind kind;
    std::string id;  // 12 hex characters of the blob's digest
    uint64_t done = 0;
    uint64_t total = 0;
    std::string from;
};

struct PushOptions {
    // For layers stored as plain tars (what a build makes); a layer that is
    // compressed already leaves as it is unless `force_compression`.
    store::Compression compression = store::Compression::kGzip;
    bool force_compression = false;
    // Blobs uploaded at once (dockerd's max-concurrent-uploads).
    unsigned parallel = 5;
    // Repositories of the same registry that may hold the image's blobs
    // (where it was pulled from, other names it has there): tried as mount
    // sources before uploading.
    std::vector<std::string> mount_from;
    std::function<void(const PushEvent&)> progress;  // serialized
};

struct PushResult {
    store::Digest manifest;  // the pushed manifest's digest
    uint64_t manifest_size = 0;
    uint64_t uploaded = 0;  // blob bytes sent
    int blobs_skipped = 0;  // already there or mounted
};

// Pushes `image` to `repo` ("team/app") under `tag` (a tag, or "" to push
// by digest only). Holds a lease while it exports.
PushResult push_image(store::ImageStore& store, RegistryClient& client, const std::string& repo,
                      const std::string& tag, const store::ImageRecord& image,
                      const PushOptions& options);

}  // namespace strata::registry
