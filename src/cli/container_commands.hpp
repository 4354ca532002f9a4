// Pieces of the container commands that other command files use.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string_view>

#include "cli/commands.hpp"
#include "containers/container_record.hpp"

namespace strata::cli {

// Docker's `docker container inspect` object for a container record.
nlohmann::ordered_json container_inspect_json(const containers::Container& c);

// For `strata inspect` (image_commands_inspect.cpp): the container `id_or_name`
// names, its state refreshed first, or nullopt when no container matches.
std::optional<nlohmann::ordered_json> inspect_container(const GlobalOptions& global,
                                                        std::string_view id_or_name);

// Docker's COMMAND column before quoting: the path and its arguments, one
// with a space in single quotes.
std::string container_command(const containers::Container& c);

}  // namespace strata::cli
