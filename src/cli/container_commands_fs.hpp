// A container's filesystem from the command line (container_commands_fs.cpp):
// `strata diff CTR` is answered here for diff_command.cpp, which also
// compares images.
#pragma once

#include <string>

#include "cli/commands.hpp"

namespace strata::cli {

// When `id_or_name` names a container of the store: prints its changes as
// `docker diff` does ("C /etc", "A /etc/new", "D /bin/tool"; `json`: Docker's
// API objects {"Kind":0|1|2,"Path":…}) and returns true. False when no
// container matches.
bool print_container_diff(const GlobalOptions& global, const std::string& id_or_name, bool json);

}  // namespace strata::cli
