// `strata rmi`: untag and remove images as `docker rmi` does.
//
//   - By NAME[:TAG]: the name goes ("Untagged: …"); when it was the image's
//     last name, the image goes too ("Deleted: sha256:<ID>").
//   - By ID (or prefix) or digest: every name goes and the image with it —
//     but an image with more than one tag, or names in more than one
//     repository, is refused without `force` (Docker's isSingleReference:
//     "image is referenced in multiple repositories", also for two tags of
//     one repository).
//   - An image a container uses (`users`) is refused as Docker refuses it:
//     by its last name or by ID unless forced, and by ID even forced while
//     the container runs. Forced (or by one of several names), the names go
//     and the image stays, nameless, for its containers: a container needs
//     its image's record to start (Docker deletes the image of a stopped
//     container there, whose layers the container holds).
// The blobs and unpacked layers of removed images are freed unless another
// image (or a GC participant, e.g. the build cache) still uses them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/image_store.hpp"
#include "store/prune.hpp"

namespace strata::store {

struct RemoveOptions {
    bool force = false;
    std::vector<GcParticipant*> participants;
    ImageUsers users;  // containers, by image
};

struct RemoveOutcome {
    std::vector<std::string> lines;   // "Untagged: busybox:latest", "Deleted: sha256:…"
    std::vector<std::string> errors;  // one per argument that failed
    uint64_t freed = 0;
};

// Each argument is handled on its own; failures are collected, not thrown.
RemoveOutcome remove_images(ImageStore& store, const std::vector<std::string>& args,
                            const RemoveOptions& opts);

}  // namespace strata::store
