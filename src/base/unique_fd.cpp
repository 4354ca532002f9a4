#include "base/unique_fd.hpp"

#include <unistd.h>

namespace strata {

void UniqueFd::reset(int fd) noexcept {
    if (fd_ >= 0 && fd_ != fd) ::close(fd_);
    fd_ = fd;
}

}  // namespace strata
