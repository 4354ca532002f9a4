#include "registry/registry_image_source.hpp"

#include "store/manifest.hpp"

namespace strata::registry {

const std::vector<std::string>& pull_accept_types() {
    static const std::vector<std::string> types = {
        std::string(store::media_type::kOciIndex),
        std::string(store::media_type::kDockerManifestList),
        std::string(store::media_type::kOciManifest),
        std::string(store::media_type::kDockerManifest),
    };
    return types;
}

FetchedManifest RegistryImageSource::manifest(const std::string& reference) {
    Manifest m = client_.get_manifest(repo_, reference, pull_accept_types());
    return {std::move(m.bytes), std::move(m.media_type), m.digest};
}

void RegistryImageSource::blob(const store::Digest& digest, int64_t size,
                               const std::function<void(const char*, size_t)>& sink) {
    client_.fetch_blob(repo_, digest, static_cast<uint64_t>(size), sink);
}

}  // namespace strata::registry
