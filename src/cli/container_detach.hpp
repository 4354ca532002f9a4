// Starting a container detached (`run -d`, `start` without -a, `restart`):
// its monitor (containers/container_monitor.hpp) is the hidden
// `strata container-monitor` command, which runs it to its end.
#pragma once

#include "cli/commands.hpp"
#include "containers/container_record.hpp"

namespace strata::cli {

// Spawns the monitor for `c` and returns once the container runs; Error
// with the monitor's reason when it could not be started.
void start_detached(const GlobalOptions& global, const std::filesystem::path& store_root,
                    const containers::Container& c);

}  // namespace strata::cli
