#include "sandbox/cgroup_name.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>

#include "sandbox/cgroup.hpp"
#include "sandbox/cgroup_files.hpp"

namespace strata::sandbox {
namespace {

constexpr std::string_view kPrefix = "strata-";

template <typename T>
std::optional<T> number(std::string_view text) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<CgroupOwner> parse_cgroup_owner(std::string_view name) {
    if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
    name.remove_prefix(kPrefix.size());
    const size_t dash1 = name.find('-');
    if (dash1 == std::string_view::npos) return std::nullopt;
    const size_t dash2 = name.find('-', dash1 + 1);
    if (dash2 == std::string_view::npos) return std::nullopt;
    const auto pid = number<pid_t>(name.substr(0, dash1));
    const auto start = number<uint64_t>(name.substr(dash1 + 1, dash2 - dash1 - 1));
    if (!pid || !start || *pid <= 0) return std::nullopt;
    return CgroupOwner{*pid, *start};
}

bool owner_gone(const CgroupOwner& owner) {
    const auto start = process_start_time(owner.pid);
    return !start || *start != owner.start_time;
}

std::string own_cgroup_prefix() {
    // Kept per thread and process ID (no lock a fork could catch held): a
    // forked child that makes cgroups names itself.
    thread_local pid_t cached_pid = 0;
    thread_local std::string cached;
    const pid_t pid = ::getpid();
    if (pid != cached_pid) {
        cached = fmt::format("{}{}-{}-", kPrefix, pid, process_start_time(pid).value_or(0));
        cached_pid = pid;
    }
    return cached;
}

}  // namespace strata::sandbox
