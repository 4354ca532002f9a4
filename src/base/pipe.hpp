// Pipe — both ends of a pipe(2), close-on-exec, each closed on destruction.
#pragma once

#include <string_view>

#include "base/unique_fd.hpp"

namespace strata {

struct Pipe {
    UniqueFd read, write;
};

// A new pipe; throws Error ("pipe", `what` it is for) when there is none.
Pipe make_pipe(std::string_view what);

}  // namespace strata
