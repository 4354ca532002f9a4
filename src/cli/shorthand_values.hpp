// Docker's flag parser (spf13/pflag) reads `-X=VALUE` as the shorthand flag
// X given VALUE: `docker images -q=true`, `docker history -H=false`,
// `docker build -t=app .`, `docker run -e=A=1 …`. CLI11 reads the same
// argument as `-X` followed by the short flags `=VALUE`, or as the value
// "=VALUE". This rewrites such arguments before CLI11 sees them.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace strata::cli {

// `args` without the program name. `-X=VALUE`, where X is a short option of
// the command being parsed (or of a command above it), becomes `-X VALUE`
// for an option that takes a value and `--LONG=VALUE` for a flag. The walk
// follows subcommands as CLI11 would, skips the value of an option given
// separately, and stops where the command's own flags end: at `--`, and at
// the first positional argument of a prefix command (`run IMAGE CMD…`,
// whose command keeps its arguments as written).
std::vector<std::string> expand_shorthand_values(const CLI::App& app,
                                                 const std::vector<std::string>& args);

}  // namespace strata::cli
