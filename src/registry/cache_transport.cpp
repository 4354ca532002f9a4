#include "registry/cache_transport.hpp"

#include <fmt/format.h>

#include <memory>

#include "base/error.hpp"
#include "store/manifest.hpp"

namespace strata::registry {

CacheDocuments fetch_cache_documents(RegistryClient& client, std::string_view repo,
                                     std::string_view tag_or_digest, std::string_view what,
                                     uint64_t max_config) {
    CacheDocuments docs;
    Manifest m =
        client.get_manifest(repo, tag_or_digest, {std::string(store::media_type::kOciManifest)});
    docs.manifest = std::move(m.bytes);
    store::Manifest parsed;
    try {
        parsed = store::Manifest::parse(docs.manifest, fmt::format("build cache {}", what));
    } catch (const Error& e) {
        throw Error(ErrorKind::kParse, fmt::format("build cache {}: {}", what, e.what()));
    }
    if (parsed.config.size < 0 || static_cast<uint64_t>(parsed.config.size) > max_config)
        throw Error(ErrorKind::kParse,
                    fmt::format("build cache {}: its config is {} bytes (at most {})", what,
                                parsed.config.size, max_config));
    client.fetch_blob(repo, parsed.config.digest, static_cast<uint64_t>(parsed.config.size),
                      [&](const char* data, size_t n) { docs.config.append(data, n); });
    return docs;
}

void fetch_cache_blob(RegistryClient& client, std::string_view repo,
                      const store::LayerRecord& layer, store::ContentStore& blobs) {
    store::ContentStore::Writer w = blobs.writer();
    client.fetch_blob(repo, layer.digest, layer.size,
                      [&](const char* data, size_t n) { w.write(data, n); });
    w.commit(layer.digest);
}

store::Digest push_cache_documents(RegistryClient& client, std::string_view repo,
                                   std::string_view tag, const CacheDocuments& docs,
                                   const std::vector<store::LayerRecord>& layers,
                                   const store::ContentStore& blobs) {
    for (const auto& l : layers) {
        if (client.blob_exists(repo, l.digest)) continue;
        UniqueFd fd = blobs.open(l.digest);
        client.upload_blob(repo, l.digest, BlobSource::from_fd(fd.get(), l.size));
    }
    const store::Digest config = store::sha256_of(docs.config);
    if (!client.blob_exists(repo, config))
        client.upload_blob(
            repo, config,
            BlobSource::from_string(std::make_shared<const std::string>(docs.config)));
    return client.put_manifest(repo, tag, store::media_type::kOciManifest, docs.manifest);
}

}  // namespace strata::registry
