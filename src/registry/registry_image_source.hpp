// The ImageSource pull reads from: one repository of a registry, through
// the distribution client.
#pragma once

#include <string>

#include "registry/client.hpp"
#include "registry/image_source.hpp"

namespace strata::registry {

// What pull asks a registry for, best first: indexes before manifests, so
// that a multi-platform image resolves to this machine's platform.
const std::vector<std::string>& pull_accept_types();

class RegistryImageSource final : public ImageSource {
  public:
    // `repo`: the repository path ("library/busybox"); `host`: for messages.
    RegistryImageSource(RegistryClient& client, std::string host, std::string repo)
        : client_(client), host_(std::move(host)), repo_(std::move(repo)) {}
    std::string describe() const override { return host_ + "/" + repo_; }
    FetchedManifest manifest(const std::string& reference) override;
    void blob(const store::Digest& digest, int64_t size,
              const std::function<void(const char*, size_t)>& sink) override;
    // RegistryClient::fetch_blob hashes every byte and checks size and digest.
    bool verifies_blobs() const override { return true; }

  private:
    RegistryClient& client_;
    std::string host_;
    std::string repo_;
};

}  // namespace strata::registry
