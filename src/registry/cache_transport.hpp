// The build cache artifact (cache/cache_export.hpp) through a registry:
// --cache-to type=registry pushes its blobs, config and manifest;
// --cache-from type=registry reads the manifest and config and fetches
// layer blobs one at a time when the build needs them. Only bytes travel
// here; what they mean is cache/'s business.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "registry/client.hpp"
#include "store/content_store.hpp"
#include "store/image_store_record.hpp"

namespace strata::registry {

struct CacheDocuments {
    std::string manifest;
    std::string config;
};

// GETs the manifest at `tag_or_digest` and the config blob it names
// (at most `max_config` bytes). Error(kParse) naming `what` when the
// manifest is not an OCI manifest; the client's errors otherwise.
CacheDocuments fetch_cache_documents(RegistryClient& client, std::string_view repo,
                                     std::string_view tag_or_digest, std::string_view what,
                                     uint64_t max_config = 64u << 20);

// Streams the layer's blob into `blobs`, checked against its digest and size.
void fetch_cache_blob(RegistryClient& client, std::string_view repo,
                      const store::LayerRecord& layer, store::ContentStore& blobs);

// Uploads the layer blobs the repository lacks (from `blobs`) and the
// config, then PUTs the manifest under `tag`; returns its digest.
store::Digest push_cache_documents(RegistryClient& client, std::string_view repo,
                                   std::string_view tag, const CacheDocuments& docs,
                                   const std::vector<store::LayerRecord>& layers,
                                   const store::ContentStore& blobs);

}  // namespace strata::registry
