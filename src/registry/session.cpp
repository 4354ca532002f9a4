#include "registry/session.hpp"

namespace strata::registry {

RegistrySession::RegistrySession(RegistryHosts hosts, CredentialLookup credentials)
    : hosts_(std::move(hosts)),
      credentials_(std::move(credentials)),
      tokens_(std::make_shared<TokenCache>()) {}

RegistryClient& RegistrySession::puller(const std::string& domain) {
    std::lock_guard lock(mu_);
    auto& c = pullers_[domain];
    if (!c) {
        ClientOptions o;
        o.tokens = tokens_;
        c = std::make_unique<RegistryClient>(hosts_.pull_endpoints(domain), credentials_, o);
    }
    return *c;
}

RegistryClient& RegistrySession::pusher(const std::string& domain) {
    std::lock_guard lock(mu_);
    auto& c = pushers_[domain];
    if (!c) {
        ClientOptions o;
        o.tokens = tokens_;
        c = std::make_unique<RegistryClient>(hosts_.push_endpoint(domain), credentials_, o);
    }
    return *c;
}

}  // namespace strata::registry
