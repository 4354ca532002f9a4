// Pieces of the container commands that other command files use.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.hpp"
#include "cli/filter_args.hpp"
#include "containers/container_record.hpp"
#include "containers/volume_store.hpp"

namespace strata::cli {

// Docker's `docker container inspect` object for a container record.
nlohmann::ordered_json container_inspect_json(const containers::Container& c);

// For `strata inspect` (image_commands_inspect.cpp): the container `id_or_name`
// names, its state refreshed first, or nullopt when no container matches.
std::optional<nlohmann::ordered_json> inspect_container(const GlobalOptions& global,
                                                        std::string_view id_or_name);

// `container prune` (and `system prune`): every container not running goes,
// of those `filters` accept (label=, label!=, until=: created before it).
struct ContainerPruneResult {
    std::vector<std::string> deleted;  // full IDs
    uint64_t reclaimed = 0;            // bytes of their upper directories
};
ContainerPruneResult prune_stopped_containers(const GlobalOptions& global,
                                              const FilterArgs& filters = {});
// Docker's "Deleted Containers:" block (nothing when none went).
void print_deleted_containers(const ContainerPruneResult& r);

// `top CONTAINER [ps OPTIONS]` (container_commands_top.cpp).
void add_top(CLI::App* cmd, const GlobalOptions& global);

// Docker's "Deleted Volumes:" block (nothing when none went): volume_commands.cpp.
void print_deleted_volumes(const containers::VolumePruneReport& report);

// Docker's COMMAND column before quoting: the path and its arguments, one
// with a space in single quotes.
std::string container_command(const containers::Container& c);

}  // namespace strata::cli
