// Is a recorded process still the one we started? A pid alone is not enough:
// after the process dies the kernel may hand the number to another one, so
// the record keeps the start time too (/proc/PID/stat field 22, clock ticks
// since boot), as Podman and runc do.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>

#include "base/unique_fd.hpp"
#include "containers/container_record.hpp"

namespace strata::containers {
namespace {

struct StatFields {
    char state = '?';
    uint64_t start = 0;
};

std::optional<StatFields> read_stat(int pid) {
    if (pid <= 0) return std::nullopt;
    std::string path = "/proc/" + std::to_string(pid) + "/stat";
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;  // ENOENT: no such process (ESRCH reads the same)
    char buf[1024];
    size_t n = 0;
    for (;;) {
        ssize_t got = ::read(fd.get(), buf + n, sizeof buf - n);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        n += static_cast<size_t>(got);
        if (n == sizeof buf) break;
    }
    std::string_view text(buf, n);
    // The command name (field 2) is in parentheses and may hold anything,
    // ')' and spaces included: the fields after it follow the last ')'.
    auto close = text.rfind(')');
    if (close == std::string_view::npos) return std::nullopt;
    text.remove_prefix(close + 1);
    StatFields f;
    int field = 2;
    while (!text.empty()) {
        while (!text.empty() && text.front() == ' ')
            text.remove_prefix(1);
        auto end = text.find(' ');
        std::string_view tok = text.substr(0, end);
        ++field;
        if (field == 3 && !tok.empty()) f.state = tok.front();
        if (field == 22) {
            std::from_chars(tok.data(), tok.data() + tok.size(), f.start);
            return f;
        }
        if (end == std::string_view::npos) break;
        text.remove_prefix(end);
    }
    return std::nullopt;
}

}  // namespace

std::optional<uint64_t> process_start_time(int pid) {
    auto f = read_stat(pid);
    if (!f) return std::nullopt;
    return f->start;
}

bool process_alive(int pid, uint64_t start) {
    auto f = read_stat(pid);
    if (!f) return false;
    if (f->state == 'Z' || f->state == 'X') return false;  // dead, only not reaped yet
    return start == 0 || f->start == start;
}

}  // namespace strata::containers
