// Where a registry domain's requests go, read the way the Docker daemon reads
// its configuration (moby registry/config.go, service_v2.go):
//
//   - /etc/docker/daemon.json: "insecure-registries" (host[:port] entries and
//     CIDRs) and "registry-mirrors" (URLs, used for docker.io pulls only);
//   - --insecure-registry flags, added to the file's list;
//   - /etc/docker/certs.d/HOST[:PORT]/: CAs (*.crt) and client pairs
//     (NAME.cert + NAME.key) for hosts that are verified.
//
// A host is insecure when it is listed by name, or when one of its addresses
// (resolved as Docker resolves it) lies in an insecure CIDR; 127.0.0.0/8 and
// ::1/128 always are, so localhost is. docker.io is always secure.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/endpoint.hpp"

namespace strata::registry {

struct HostsOptions {
    std::vector<std::string> insecure_registries;  // --insecure-registry flags
    std::string daemon_json = "/etc/docker/daemon.json";
    std::string certs_d = "/etc/docker/certs.d";
    // The CIDRs insecure before any configuration, as Docker's.
    std::vector<std::string> default_insecure_cidrs = {"127.0.0.0/8", "::1/128"};
    // Host name → its addresses (text), for the CIDR check; empty means
    // getaddrinfo. A name that does not resolve matches no CIDR.
    std::function<std::vector<std::string>(const std::string& host)> resolve;
};

class RegistryHosts {
  public:
    // Reads daemon.json (a missing file is no configuration). Error(kUsage)
    // naming the file or the flag for a malformed file or entry.
    explicit RegistryHosts(HostsOptions options = {});

    // Mirrors first (docker.io only, in the file's order), then the registry:
    // "docker.io" (or "index.docker.io") → host registry-1.docker.io.
    // Error(kUsage) for a certs.d directory with a .cert and no .key.
    std::vector<Endpoint> pull_endpoints(std::string_view domain) const;
    // The registry itself, never a mirror.
    Endpoint push_endpoint(std::string_view domain) const;

    // Whether `host` ("name", "name:port", "[::1]:5000") is verified over TLS.
    bool is_secure(std::string_view host) const;

    // The "registry-mirrors" entries, normalized ("https://m.example/").
    const std::vector<std::string>& mirrors() const { return mirrors_; }
    // Things worth telling the user that are not errors (an http:// prefix
    // removed from an insecure-registries entry), as Docker logs them.
    const std::vector<std::string>& warnings() const { return warnings_; }

  private:
    struct Cidr {
        unsigned char addr[16];
        int family;  // AF_INET or AF_INET6
        int bits;
    };
    void add_insecure(const std::string& entry, const std::string& source);
    Endpoint registry_endpoint(std::string_view domain) const;
    TlsFiles tls_files(const std::string& host) const;

    HostsOptions options_;
    std::vector<std::string> insecure_hosts_;
    std::vector<Cidr> insecure_cidrs_;
    std::vector<std::string> mirrors_;
    std::vector<std::string> warnings_;
};

// "docker.io" for the names Docker treats as Docker Hub's domain
// ("docker.io", "index.docker.io"), else `domain` unchanged.
std::string canonical_domain(std::string_view domain);

// Reads /etc/docker/certs.d/HOST layout from `dir` as Docker does (sorted
// names; *.crt CAs, NAME.cert with NAME.key; a .cert without its .key or a .key
// without its .cert is Error(kUsage)). A missing directory gives no files.
TlsFiles read_certs_dir(const std::string& dir);

}  // namespace strata::registry
