#include "base/owner_name.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>

#include "base/process_ref.hpp"

namespace strata {
namespace {

template <typename T>
std::optional<T> number(std::string_view text) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

}  // namespace

std::string own_name_prefix(std::string_view prefix) {
    const pid_t pid = ::getpid();
    return fmt::format("{}{}-{}-", prefix, pid, process_start_time(pid).value_or(0));
}

std::optional<OwnerName> parse_owner_name(std::string_view name, std::string_view prefix) {
    if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
    name.remove_prefix(prefix.size());
    const size_t dash1 = name.find('-');
    if (dash1 == std::string_view::npos) return std::nullopt;
    const size_t dash2 = name.find('-', dash1 + 1);
    if (dash2 == std::string_view::npos) return std::nullopt;
    const auto pid = number<pid_t>(name.substr(0, dash1));
    const auto start = number<uint64_t>(name.substr(dash1 + 1, dash2 - dash1 - 1));
    if (!pid || !start || *pid <= 0) return std::nullopt;
    return OwnerName{*pid, *start};
}

bool owner_gone(const OwnerName& owner) {
    return !process_alive(owner.pid, owner.start_time);
}

size_t remove_dirs_of_gone_owners(const std::filesystem::path& parent, std::string_view prefix) {
    size_t removed = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
        const std::string name = entry.path().filename().string();
        const auto owner = parse_owner_name(name, prefix);
        if (!owner) continue;
        struct stat st {};
        // Ours and private (a mkdtemp directory, 0700): nobody else can
        // write in it while it is removed.
        if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
            st.st_uid != ::geteuid() || (st.st_mode & 077) != 0 || !owner_gone(*owner))
            continue;
        std::error_code rm;
        if (std::filesystem::remove_all(entry.path(), rm) > 0 && !rm) ++removed;
    }
    return removed;
}

TempDir owned_temp_dir(const std::filesystem::path& parent, std::string_view prefix) {
    remove_dirs_of_gone_owners(parent, prefix);
    return TempDir::create(parent, own_name_prefix(prefix));
}

}  // namespace strata
