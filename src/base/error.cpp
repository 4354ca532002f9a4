#include "base/error.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace strata {

Error system_error(std::string_view op, std::string_view path, int err) {
    if (path.empty())
        return Error(ErrorKind::kSystem, fmt::format("{}: {}", op, std::strerror(err)));
    return Error(ErrorKind::kSystem, fmt::format("{} '{}': {}", op, path, std::strerror(err)));
}

Error system_error(std::string_view op, std::string_view path) {
    return system_error(op, path, errno);
}

}  // namespace strata
