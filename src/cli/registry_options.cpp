#include "cli/registry_options.hpp"

#include <fmt/format.h>

#include <cstdio>

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
    registry::RegistryHosts out(std::move(hosts));
    for (const auto& w : out.warnings())
        fmt::print(stderr, "WARNING: {}\n", w);
    return out;
}

}  // namespace strata::cli
