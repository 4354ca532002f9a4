#include "sandbox/user_namespace.hpp"

#include <sys/utsname.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace strata::sandbox {

namespace {

bool read_in_user_namespace() {
    std::ifstream in("/proc/self/uid_map");
    if (!in) return false;  // no /proc: assume the initial namespace
    std::string line, rest;
    if (!std::getline(in, line)) return false;
    if (std::getline(in, rest) && !rest.empty()) return true;  // several lines
    std::istringstream fields(line);
    unsigned long long inside = 1, outside = 1, count = 0;
    fields >> inside >> outside >> count;
    return !(inside == 0 && outside == 0 && count == 4294967295ull);
}

}  // namespace

bool in_user_namespace() {
    static const bool value = read_in_user_namespace();
    return value;
}

std::string user_namespace_unsupported_reason() {
    struct utsname u {};
    if (::uname(&u) != 0) return {};
    int major = 0, minor = 0;
    if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return {};
    if (major > 5 || (major == 5 && minor >= 11)) return {};
    return std::string(
               "rootless RUN steps need Linux 5.11 or newer (overlayfs in a user "
               "namespace, with `userxattr`); this kernel is ") +
           u.release + ": run strata as root";
}

}  // namespace strata::sandbox
