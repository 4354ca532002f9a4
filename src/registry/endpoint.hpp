// How strata reaches one registry host, and with which credentials: the
// values the host configuration (registry_hosts.hpp: daemon.json, certs.d,
// --insecure-registry) hands to the distribution client (client.hpp).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::registry {

// Certificates for one host, laid out as Docker reads them from
// /etc/docker/certs.d/HOST[:PORT]/: every *.crt is a CA (PEM) added to the
// system's, every NAME.cert with its NAME.key is a client certificate.
struct TlsFiles {
    std::vector<std::string> ca_files;
    struct ClientPair {
        std::string cert;
        std::string key;
    };
    std::vector<ClientPair> client_pairs;
    // Where they were looked for (certs.d/HOST), for messages; "" when the
    // host reads none (Docker Hub, insecure hosts).
    std::string dir;
};

// One place to send requests for a registry domain: the registry itself or
// one of its mirrors.
struct Endpoint {
    std::string domain;            // the reference's domain: "docker.io", "127.0.0.1:5000"
    std::string host;              // where to connect: "registry-1.docker.io", "127.0.0.1:5000"
    std::string path_prefix;       // a mirror's URL path ("" or "/prefix"), no trailing '/'
    bool plain_http = false;       // http:// (insecure registries, localhost)
    bool skip_tls_verify = false;  // https:// without checking the certificate (insecure)
    // An insecure registry (Docker's rule): when the HTTPS connection fails
    // because the server speaks plain HTTP (or TLS cannot be set up), try the
    // same request again over http:// and keep using http:// for this host.
    bool http_fallback = false;
    bool mirror = false;  // a registry-mirrors entry: pull only, fall back to the next
    TlsFiles tls;

    // "https://registry-1.docker.io" / "http://127.0.0.1:5000/prefix"
    std::string base_url() const;
};

// A user's secret for one registry, as `docker login` stores it.
struct Credentials {
    std::string username;
    std::string password;
    std::string identity_token;  // an OAuth refresh token, when the registry gave one
};

// Looks up the credentials for a registry domain ("docker.io",
// "host:5000"); nullopt for anonymous access.
using CredentialLookup = std::function<std::optional<Credentials>(std::string_view domain)>;

}  // namespace strata::registry
