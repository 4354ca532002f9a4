// `strata load`: image archives into the store.
//
// Reads, in one pass over the input (any compression): docker-save tarballs
// in the old form (<id>/layer.tar, <id>/json, manifest.json, repositories)
// and the newer one (manifest.json over an OCI layout, Docker 25+), and OCI
// image layouts in a tar (oci-layout, index.json, blobs/). Everything is
// staged under <root>/tmp and verified — every blob against its digest,
// every layer against its config's diffID, every descriptor's size, every
// reference present — before any blob, record or name is published. A bad
// archive leaves the store exactly as it was.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "store/compression.hpp"
#include "store/image_store.hpp"

namespace strata::store {

struct LoadOptions {
    // For manifest lists / nested indexes: which platform to take. Empty:
    // the host's.
    std::string os;
    std::string architecture;
    std::string variant;
    // How to store layers that arrive as plain tar files (old docker-save).
    Compression layer_compression = Compression::kNone;
};

struct LoadedImage {
    ImageRecord image;
    std::vector<Reference> names;  // tagged
};

struct LoadReport {
    std::string format;  // "oci-layout" or "docker-save"
    std::vector<LoadedImage> images;
    // Names that pointed at another image before the load (Docker: "renaming
    // the old one ... to empty string").
    std::vector<std::pair<Reference, Digest>> replaced;
};

// `what` names the input in errors ("archive busybox.tar").
LoadReport load_archive(ImageStore& store, int fd, const std::string& what,
                        const LoadOptions& opts = {});

// Moves a verified blob from a staging content store into `to` (a rename on
// the same filesystem, a verified copy otherwise). No-op when `to` has it.
void publish_blob(ContentStore& from, ContentStore& to, const Digest& digest);

}  // namespace strata::store
