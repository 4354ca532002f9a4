// Where the conformance corpora are: $STRATA_CONFORMANCE_DIR when set (a
// checkout that does not sit next to ../shared), else ../shared/conformance
// next to the source tree.
#pragma once

#include <cstdlib>
#include <filesystem>

inline std::filesystem::path conformance_dir() {
    if (const char* dir = std::getenv("STRATA_CONFORMANCE_DIR"); dir && *dir) return dir;
    return std::filesystem::path(STRATA_SOURCE_DIR) / ".." / "shared" / "conformance";
}
