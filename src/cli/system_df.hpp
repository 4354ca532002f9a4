// `strata system df` (system_df.cpp).
#pragma once

#include "cli/commands.hpp"

namespace strata::cli {

void run_system_df(const GlobalOptions& global);

}  // namespace strata::cli
