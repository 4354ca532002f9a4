// The read-only lower layers of a container: its image's unpacked layer
// directories, as the executor gets them for a FROM image
// (BuildSession::unpack): store::LayerStore::ensure_chain.
#pragma once

#include <filesystem>
#include <vector>

#include "store/image_store.hpp"

namespace strata::containers {

// The image's layer directories, lowest first, unpacked when missing (an
// image just pulled or loaded), all distinct (a repeated layer gets its
// copy) so that they can be one overlay's lowerdirs. An unpacked layer is
// not checked again: the store verified it when it unpacked it.
std::vector<std::filesystem::path> image_layer_dirs(store::ImageStore& store,
                                                    const store::ImageRecord& image);

}  // namespace strata::containers
