// The global options of the commands that talk to registries (login, and
// pull, push and build's FROM when they come): `--insecure-registry HOST`,
// repeatable, added to /etc/docker/daemon.json's "insecure-registries".
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "registry/registry_hosts.hpp"

namespace strata::cli {

struct RegistryOptions {
    std::vector<std::string> insecure_registries;  // --insecure-registry
};

// Adds --insecure-registry to `app` (the top-level app: a global option).
void add_registry_options(CLI::App& app, RegistryOptions& options);

// The host configuration for a command: daemon.json and certs.d at Docker's
// paths (certs.d: $STRATA_CERTS_D instead when set), plus the flags. Warnings (an insecure entry
// with a scheme) are printed to stderr as Docker logs them.
registry::RegistryHosts registry_hosts(const RegistryOptions& options);

}  // namespace strata::cli
