#include "containers/image_layers.hpp"

namespace strata::containers {

std::vector<std::filesystem::path> image_layer_dirs(store::ImageStore& store,
                                                    const store::ImageRecord& image) {
    std::vector<store::ChainLayer> chain;
    chain.reserve(image.layers.size());
    for (const auto& l : image.layers)
        chain.push_back({l.digest, l.diff_id});
    return store.layers().ensure_chain(chain);
}

}  // namespace strata::containers
