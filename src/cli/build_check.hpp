// `strata build --check-reproducible`: after the build, the same build once
// more without the cache, as a scratch build (no tags, no cache entries, no
// image record: executor::BuildRequest::scratch), and the two images
// compared with the engine of `strata diff`.
#pragma once

#include <string>

#include "executor/builder.hpp"
#include "store/image_store.hpp"

namespace strata::cli {

// Prints "reproducible: <image ID>" (stdout) and returns 0, or prints the
// diff report and returns 1. Without SOURCE_DATE_EPOCH timestamps are not
// compared, and a note on stderr says so and how to check them. `progress`
// is the build's mode: "tty", "plain" or "quiet".
int check_reproducible(executor::BuildRequest request, store::ImageStore& store,
                       const executor::BuildResult& first, const std::string& progress,
                       executor::RunExecutor* runner);

}  // namespace strata::cli
