#include "sandbox/cgroup_name.hpp"

#include <unistd.h>

namespace strata::sandbox {
namespace {

constexpr std::string_view kPrefix = "strata-";

}  // namespace

std::optional<CgroupOwner> parse_cgroup_owner(std::string_view name) {
    return parse_owner_name(name, kPrefix);
}

std::string own_cgroup_prefix() {
    // Kept per thread and process ID (no lock a fork could catch held): a
    // forked child that makes cgroups names itself.
    thread_local pid_t cached_pid = 0;
    thread_local std::string cached;
    const pid_t pid = ::getpid();
    if (pid != cached_pid) {
        cached = own_name_prefix(kPrefix);
        cached_pid = pid;
    }
    return cached;
}

}  // namespace strata::sandbox
