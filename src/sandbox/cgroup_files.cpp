#include "sandbox/cgroup_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "base/unique_fd.hpp"

namespace strata::sandbox::cgroup_files {

int write_value(const std::string& path, std::string_view value) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return errno;
    const ssize_t n = ::write(fd.get(), value.data(), value.size());
    if (n < 0) return errno;
    return static_cast<size_t>(n) == value.size() ? 0 : EIO;
}

int write_values(const std::string& path, const std::vector<std::string>& values, size_t& failed) {
    failed = 0;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return errno;
    for (; failed < values.size(); ++failed) {
        const std::string& value = values[failed];
        const ssize_t n = ::write(fd.get(), value.data(), value.size());
        if (n < 0) return errno;
        if (static_cast<size_t>(n) != value.size()) return EIO;
    }
    return 0;
}

std::optional<std::string> read_value(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    std::string text;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        text.append(buf, static_cast<size_t>(n));
    }
    return text;
}

int64_t keyed_value(std::string_view text, std::string_view key) {
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(pos, end - pos);
        if (line.size() > key.size() && line.substr(0, key.size()) == key &&
            line[key.size()] == ' ') {
            const std::string_view number = line.substr(key.size() + 1);
            int64_t value = 0;
            std::from_chars(number.data(), number.data() + number.size(), value);
            return value;
        }
        pos = end + 1;
    }
    return 0;
}

std::vector<pid_t> read_procs(const std::string& dir) {
    std::vector<pid_t> pids;
    const auto text = read_value(dir + "/cgroup.procs");
    if (!text) return pids;
    const char* p = text->data();
    const char* end = p + text->size();
    while (p < end) {
        pid_t pid = 0;
        auto [next, ec] = std::from_chars(p, end, pid);
        if (ec == std::errc() && pid > 0) pids.push_back(pid);
        p = next;
        while (p < end && (*p == '\n' || *p == ' '))
            ++p;
        if (ec != std::errc()) ++p;
    }
    return pids;
}

bool exists(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0;
}

}  // namespace strata::sandbox::cgroup_files
