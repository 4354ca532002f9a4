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

std::optional<uint64_t> process_start_time(pid_t pid) {
    const auto stat = cgroup_files::read_value(fmt::format("/proc/{}/stat", pid));
    if (!stat) return std::nullopt;
    // "pid (comm) state ppid ..." — comm may hold spaces and parentheses, so
    // count fields from the last ')': state is field 3, starttime field 22.
    const size_t paren = stat->rfind(')');
    if (paren == std::string::npos) return std::nullopt;
    std::string_view rest = std::string_view(*stat).substr(paren + 1);
    for (int field = 3; field < 22; ++field) {
        const size_t space = rest.find(' ', 1);
        if (space == std::string_view::npos) return std::nullopt;
        rest = rest.substr(space);
    }
    rest.remove_prefix(1);
    return number<uint64_t>(rest.substr(0, rest.find(' ')));
}

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
    // Not cached: a forked child that makes cgroups names itself.
    const pid_t pid = ::getpid();
    return fmt::format("{}{}-{}-", kPrefix, pid, process_start_time(pid).value_or(0));
}

}  // namespace strata::sandbox
