#include "cli/human_size.hpp"

#include <iterator>

#include <fmt/format.h>

namespace strata::cli {

std::string human_size(uint64_t bytes, int precision) {
    static const char* const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
    double size = static_cast<double>(bytes);
    size_t i = 0;
    while (size >= 1000.0 && i + 1 < std::size(units)) {
        size /= 1000.0;
        ++i;
    }
    return fmt::format("{:.{}g}{}", size, precision, units[i]);
}

}  // namespace strata::cli
