// `RUN --mount=...` values: a CSV list of key=value fields (BuildKit's
// parseMount). The planner needs `from=` for the stage graph and the
// expanded fields for the RUN step and its cache key.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace strata::planner {

struct MountSpec {
    std::string type = "bind";
    std::string from, source, target, id;
    bool read_only = true;
    std::map<std::string, std::string> options;  // every field as given, key lower case
};

// Thrown for a malformed mount; the caller locates it.
struct MountError {
    std::string message;
};

// Parses one --mount value. `expand`, when set, is applied to every value
// (BuildKit expands mount values with the stage's variables).
MountSpec parse_mount(std::string_view value,
                      const std::function<std::string(const std::string&)>& expand = {});

}  // namespace strata::planner
