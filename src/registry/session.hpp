// A command's view of the registries: where each domain's requests go
// (RegistryHosts), whose credentials they carry (config.json or a helper),
// and one client per domain that shares bearer tokens with the others —
// what `strata pull`, `push` and a build's FROM use.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "registry/client.hpp"
#include "registry/registry_hosts.hpp"
#include "registry/token_cache.hpp"

namespace strata::registry {

class RegistrySession {
  public:
    RegistrySession(RegistryHosts hosts, CredentialLookup credentials);

    // The client for pulls from `domain` (mirrors first for docker.io).
    RegistryClient& puller(const std::string& domain);
    // The client for pushes to `domain` (never a mirror).
    RegistryClient& pusher(const std::string& domain);
    const RegistryHosts& hosts() const { return hosts_; }

  private:
    RegistryHosts hosts_;
    CredentialLookup credentials_;
    std::shared_ptr<TokenCache> tokens_;
    std::mutex mu_;
    std::map<std::string, std::unique_ptr<RegistryClient>> pullers_, pushers_;
};

}  // namespace strata::registry
