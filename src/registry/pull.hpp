// Pull: an image from an ImageSource into the store, as `docker pull` does
// it — a manifest list or OCI index resolved to the wanted platform, the
// config and the layers downloaded (a few at a time) and checked against
// every digest and size, each layer's diffID checked against the config,
// blobs the store has already skipped. The manifest, config and layer blobs
// are kept exactly as the registry served them, so the image keeps its
// registry digest and leaves again (save, push) byte for byte the same.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "registry/image_source.hpp"
#include "store/image_store.hpp"
#include "store/manifest.hpp"

namespace strata::registry {

// One line of `docker pull` progress, for one layer (id = its short digest)
// or for the image (id empty).
struct PullEvent {
    enum class Kind {
        kResolved,       // the tag resolved: `digest` is what it names
        kWaiting,        // "Pulling fs layer"
        kAlreadyExists,  // "Already exists"
        kDownloading,    // "Downloading": `done` of `total` bytes
        kVerifying,      // "Verifying Checksum"
        kComplete,       // "Pull complete"
    };
    Kind kind;
    std::string id;  // 12 hex characters of the layer blob's digest
    int64_t done = 0;
    int64_t total = 0;
    store::Digest digest;
};

struct PullOptions {
    store::Platform platform;     // normalized by select_manifest; os "" = linux
    bool platform_given = false;  // --platform: a single-platform image must match it
    // Layers downloaded at once (dockerd's max-concurrent-downloads).
    unsigned parallel = 3;
    std::function<void(const PullEvent&)> progress;  // called from several threads, serialized
};

struct PullResult {
    store::ImageRecord image;
    // What the reference named in the registry: the index or the manifest
    // (Docker's "Digest:" line and the image's repo digest).
    store::Digest resolved;
    // The image the name pointed at before ("" when none or the same):
    // "Downloaded newer image" against "Image is up to date".
    std::optional<store::Digest> replaced;
    bool newer = false;       // the store had not had this image
    uint64_t downloaded = 0;  // layer bytes downloaded
};

// Pulls `ref` (domain/path with a tag or a digest; a name alone means
// :latest) from `source`, publishes the image and points the name at it
// (not when pulled by digest, as Docker). Errors name the reference.
PullResult pull_image(store::ImageStore& store, ImageSource& source, const store::Reference& ref,
                      const PullOptions& options);

}  // namespace strata::registry
