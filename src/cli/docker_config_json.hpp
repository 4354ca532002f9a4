// Docker's container.Config object (the "Config" of `docker image inspect`
// and of `docker container inspect`), from an image config's "config".
#pragma once

#include <nlohmann/json.hpp>

#include "store/image_config.hpp"

namespace strata::cli {

nlohmann::ordered_json docker_config(const store::ContainerConfig& c);

}  // namespace strata::cli
