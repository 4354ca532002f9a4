// The two files of a container record: config.json (id, name, created and
// the ContainerSpec; written once) and state.json (the ContainerState;
// rewritten). strata's own format; Docker's inspect shape is built from them
// by container_inspect.hpp.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

#include "containers/container_record.hpp"

namespace strata::containers {

nlohmann::json spec_to_json(const ContainerSpec& spec);
// Error(kCorrupt) naming `what` for a malformed document.
ContainerSpec spec_from_json(const nlohmann::json& j, std::string_view what);

nlohmann::json state_to_json(const ContainerState& state);
ContainerState state_from_json(const nlohmann::json& j, std::string_view what);

// config.json: {"id", "name", "created", "spec"}. dir and state are not set.
nlohmann::json config_document(const Container& c);
Container container_from_config_document(const nlohmann::json& j, std::string_view what);

}  // namespace strata::containers
