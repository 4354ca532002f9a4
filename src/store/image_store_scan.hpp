// A read-only pass over a layer tar (any compression) that checks it and
// measures it, without unpacking anything: every header must parse, the
// stream must not be truncated, and no entry may escape the directory it
// would be applied to (absolute names, `..`, hardlinks out, or a path through
// a symlink that the same layer created). Gives the diffID and the size
// Docker reports for a layer (regular file bytes plus symlink target lengths,
// hardlinks counted once).
#pragma once

#include <cstdint>
#include <string_view>

#include "store/compression.hpp"
#include "store/content_store.hpp"
#include "store/digest.hpp"

namespace strata::store {

struct LayerScan {
    Digest diff_id;
    uint64_t unpacked_size = 0;
    uint64_t entries = 0;
};

// Error(kCorrupt) naming `what` and the entry for any problem.
LayerScan scan_layer(int fd, std::string_view what);
LayerScan scan_layer_blob(const ContentStore& blobs, const Digest& digest, std::string_view what);

}  // namespace strata::store
