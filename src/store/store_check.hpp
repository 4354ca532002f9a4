// `strata store check`: verifies every digest and every reference in a store.
//
//   - every blob hashes to its name;
//   - every image record's manifest, config and layer blobs exist and agree
//     with each other (config digest, layer digests, diffIDs, sizes), and
//     each layer's uncompressed content hashes to its diffID;
//   - every name points at an existing image record;
//   - records and the name index parse.
// Things that are not wrong but take space (unreferenced blobs and layers,
// staging leftovers) are reported as notes: `strata prune` frees them.
// Runs under a lease, so concurrent writers go on and prune waits.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "store/image_store.hpp"

namespace strata::store {

struct CheckOptions {
    // Decompress every layer to check its diffID (the slow part).
    bool verify_layer_contents = true;
};

struct CheckReport {
    std::vector<std::string> problems;
    std::vector<std::string> notes;
    size_t blobs = 0;
    size_t images = 0;
    size_t names = 0;
    size_t layers = 0;        // unpacked layers
    size_t layer_copies = 0;  // their copies for chains that repeat a layer
    bool ok() const { return problems.empty(); }
};

CheckReport check_store(ImageStore& store, const CheckOptions& opts = {});

}  // namespace strata::store
