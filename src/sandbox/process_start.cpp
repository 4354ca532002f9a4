#include "sandbox/process_start.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <string>

#include "base/unique_fd.hpp"

namespace strata::sandbox {

std::optional<uint64_t> parse_start_time(std::string_view stat) {
    const size_t paren = stat.rfind(')');
    if (paren == std::string_view::npos) return std::nullopt;
    // After ")": field 3 (state) is the first; field 22 is the 20th.
    size_t pos = paren + 1;
    for (int field = 3; field <= 22; ++field) {
        while (pos < stat.size() && stat[pos] == ' ')
            ++pos;
        const size_t end = stat.find(' ', pos);
        const std::string_view value =
            stat.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        if (value.empty()) return std::nullopt;
        if (field == 22) {
            uint64_t v = 0;
            const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
            if (ec != std::errc() || p != value.data() + value.size()) return std::nullopt;
            return v;
        }
        if (end == std::string_view::npos) return std::nullopt;
        pos = end;
    }
    return std::nullopt;
}

std::optional<uint64_t> process_start_time(pid_t pid) {
    if (pid <= 0) return std::nullopt;
    const std::string path = "/proc/" + std::to_string(pid) + "/stat";
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    char buf[1024];
    ssize_t n;
    do {
        n = ::read(fd.get(), buf, sizeof buf);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return std::nullopt;
    return parse_start_time(std::string_view(buf, static_cast<size_t>(n)));
}

}  // namespace strata::sandbox
