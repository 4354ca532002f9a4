// Registry credentials in Docker's client configuration, read and written as
// the docker CLI does (docker/cli cli/config/configfile, credentials/):
//
//   $DOCKER_CONFIG/config.json, else ~/.docker/config.json
//   {
//     "auths": { "KEY": { "auth": base64("user:password"), "identitytoken": "…" } },
//     "credsStore": "NAME",              // docker-credential-NAME for every host
//     "credHelpers": { "KEY": "NAME" }   // … or for one host
//   }
//
// KEY is a registry's server address: "https://index.docker.io/v1/" for
// Docker Hub, the host[:port] for any other registry (older files also have
// "https://host", "http://host/v1/": they are read, and erased by logout).
// A helper is run as `docker-credential-NAME get|store|erase` with the
// server address or a JSON object on stdin (docker-credential-helpers).
//
// No secret ever appears in an error message.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "registry/endpoint.hpp"

namespace strata::registry {

// Docker Hub's key in config.json.
inline constexpr std::string_view kHubServerAddress = "https://index.docker.io/v1/";

// $DOCKER_CONFIG, else $HOME/.docker (HOME from the passwd entry when unset).
std::filesystem::path default_docker_config_dir();

// The registry domain a `docker login SERVER` argument names: "" and
// "docker.io", "index.docker.io", "registry-1.docker.io" and
// "https://index.docker.io/v1/" are "docker.io"; otherwise the host[:port] of
// the URL or name ("https://host:5000/v2/" → "host:5000").
std::string domain_of_server(std::string_view server);
// config.json's key for a domain: kHubServerAddress for docker.io, else the domain.
std::string server_address_of(std::string_view domain);
// docker/cli's ConvertToHostname: strips http:// or https:// and any path.
std::string convert_to_hostname(std::string_view key);

class CredentialStore {
  public:
    explicit CredentialStore(std::filesystem::path config_dir = default_docker_config_dir(),
                             std::chrono::milliseconds helper_timeout = std::chrono::seconds(60));

    std::filesystem::path config_file() const { return dir_ / "config.json"; }

    // The helper that serves `domain` ("NAME" of docker-credential-NAME):
    // credHelpers' entry for its key, else credsStore; nullopt for the file.
    std::optional<std::string> helper_for(std::string_view domain) const;

    // nullopt: anonymous (no entry, or the helper has none). Error for a
    // malformed file or a failing helper (its message, never the secret).
    std::optional<Credentials> get(std::string_view domain) const;
    // Through the helper when one applies (an empty "auths" entry is kept in
    // the file, as docker login does), else into "auths" (base64). The file
    // keeps every other key; it is written atomically, mode 0600, in a
    // directory created 0700.
    void store(std::string_view domain, const Credentials& creds);
    // Removes what get() would find: every "auths" key naming the domain, and
    // the helper's entry. A helper that has none is not an error.
    void erase(std::string_view domain);
    // Whether "auths" has an entry for the domain (docker logout's test).
    bool has_entry(std::string_view domain) const;

  private:
    std::filesystem::path dir_;
    std::chrono::milliseconds timeout_;
};

// What make_credential_lookup does when a lookup fails (a helper that is not
// installed or fails): docker pull goes on anonymously; `warn` hears why.
using CredentialWarning = std::function<void(const std::string& message)>;

// A thread-safe lookup for the distribution client: each domain is looked up
// once (file or helper) and its answer kept for the lookup's lifetime.
CredentialLookup make_credential_lookup(
    std::filesystem::path config_dir = default_docker_config_dir(), CredentialWarning warn = {});

// Runs `docker-credential-NAME ACTION` from PATH with `input` on stdin.
// Returns its stdout on exit status 0. Otherwise Error(kNotFound) when the
// helper says "credentials not found in native keychain", Error(kSystem)
// when it cannot be started or runs past `timeout` (it is killed), else
// Error(kSystem) with its exit status and output (stdout and stderr, with
// `secret` replaced by "<redacted>" if a helper echoes it).
std::string run_credential_helper(const std::string& name, const std::string& action,
                                  std::string_view input, std::chrono::milliseconds timeout,
                                  std::string_view secret = {});

}  // namespace strata::registry
