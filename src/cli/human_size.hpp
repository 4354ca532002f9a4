// Sizes as Docker's CLI prints them (go-units).
#pragma once

#include <cstdint>
#include <string>

namespace strata::cli {

// go-units HumanSizeWithPrecision(size, precision): decimal units, "%.3g":
// "2.13MB" (`docker images` uses 3; HumanSize, docker pull's counts, 4).
std::string human_size(uint64_t bytes, int precision = 3);

}  // namespace strata::cli
