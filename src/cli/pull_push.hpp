// What the build command needs from pull (pull_push_commands.cpp).
#pragma once

#include "cli/commands.hpp"
#include "executor/store_image_resolver.hpp"
#include "store/image_store.hpp"

namespace strata::cli {

// Pulls a FROM image into `store` from its registry, with the registries
// configured as for `strata pull` (the session is made on first use, so a
// build that pulls nothing reads no registry configuration).
executor::ImagePuller make_image_puller(const GlobalOptions& global, store::ImageStore& store);

}  // namespace strata::cli
