#include "base/pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "base/error.hpp"

namespace strata {

Pipe make_pipe(std::string_view what) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw system_error("pipe", what);
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace strata
