#include "cli/registry_options.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

namespace strata::cli {

void add_registry_options(CLI::App& app, RegistryOptions& options) {
    app.add_option("--insecure-registry", options.insecure_registries,
                   "Registry (HOST[:PORT] or CIDR) to reach over HTTPS without verifying its "
                   "certificate, or plain HTTP; repeatable, added to /etc/docker/daemon.json's "
                   "insecure-registries")
        ->expected(1)
        ->take_all();
}

registry::RegistryHosts registry_hosts(const RegistryOptions& options) {
    registry::HostsOptions hosts;
    hosts.insecure_registries = options.insecure_registries;
    // STRATA_CERTS_D replaces /etc/docker/certs.d (Docker has no such knob;
    // tests and users without root point it at their own CA directories).
    if (const char* dir = std::getenv("STRATA_CERTS_D"); dir && *dir) hosts.certs_d = dir;
    registry::RegistryHosts out(std::move(hosts));
    for (const auto& w : out.warnings())
        fmt::print(stderr, "WARNING: {}\n", w);
    return out;
}

}  // namespace strata::cli
