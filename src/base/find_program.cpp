#include "base/find_program.hpp"

#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>

namespace strata {

std::optional<std::filesystem::path> find_program(std::string_view name) {
    std::string path;
    if (const char* p = std::getenv("PATH"); p && *p) path = std::string(p) + ":";
    path += "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
    std::istringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
        if (dir.empty()) continue;
        const std::filesystem::path candidate = std::filesystem::path(dir) / name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return std::nullopt;
}

}  // namespace strata
