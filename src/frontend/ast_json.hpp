// The typed AST as JSON, for tools (`strata parse --format json`).
#pragma once

#include <nlohmann/json.hpp>

#include "frontend/instructions.hpp"

namespace strata::frontend {

nlohmann::ordered_json to_json(const Dockerfile& df);

}  // namespace strata::frontend
