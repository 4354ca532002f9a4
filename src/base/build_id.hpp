// The GNU build ID of the running executable: what keys things a strata
// built from other sources may compute otherwise (build summaries, cached
// parses).
#pragma once

#include <string>

namespace strata {

// Read once from the executable's mapped notes (no system call); empty when
// the linker wrote none.
const std::string& binary_build_id();

}  // namespace strata
