#include "base/process_ref.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace strata {

namespace {

// The state letter and the start time from /proc/PID/stat. The command name
// (field 2) may hold spaces and ')' — fields are counted after the last ')'.
bool read_stat(pid_t pid, char& state, uint64_t& start) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    FILE* f = std::fopen(path, "re");
    if (!f) return false;
    char buf[1024];
    const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const std::string text(buf, n);
    const size_t close = text.rfind(')');
    if (close == std::string::npos || close + 2 >= text.size()) return false;
    state = text[close + 2];
    // After ')': field 3 is the state; the start time is field 22.
    size_t pos = close + 2;
    for (int field = 3; field < 22; ++field) {
        pos = text.find(' ', pos);
        if (pos == std::string::npos) return false;
        ++pos;
    }
    start = std::strtoull(text.c_str() + pos, nullptr, 10);
    return true;
}

int pidfd_open(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

}  // namespace

std::optional<uint64_t> process_start_time(pid_t pid) {
    char state = 0;
    uint64_t start = 0;
    if (pid <= 0 || !read_stat(pid, state, start)) return std::nullopt;
    return start;
}

bool process_alive(pid_t pid, uint64_t start) {
    char state = 0;
    uint64_t started = 0;
    if (pid <= 0 || !read_stat(pid, state, started)) return false;
    if (state == 'Z' || state == 'X') return false;  // dead, only not reaped yet
    return start == 0 || started == start;
}

ProcessRef ProcessRef::self() {
    return *of(::getpid());
}

std::optional<ProcessRef> ProcessRef::of(pid_t pid) {
    if (auto start = process_start_time(pid)) return ProcessRef(pid, *start);
    return std::nullopt;
}

UniqueFd ProcessRef::open_checked() const {
    if (pid_ <= 0) return UniqueFd();
    UniqueFd fd(pidfd_open(pid_));
    if (!fd) return fd;
    // Checked after the pidfd is open: if the start time matches now, the
    // pidfd refers to this process even if the pid is reused later.
    char state = 0;
    uint64_t start = 0;
    if (!read_stat(pid_, state, start) || start != start_ || state == 'Z' || state == 'X')
        return UniqueFd();
    return fd;
}

bool ProcessRef::alive() const {
    return static_cast<bool>(open_checked());
}

bool ProcessRef::signal(int sig) const {
    UniqueFd fd = open_checked();
    if (!fd) return false;
    return ::syscall(SYS_pidfd_send_signal, fd.get(), sig, nullptr, 0) == 0;
}

bool ProcessRef::wait_gone(std::optional<std::chrono::milliseconds> timeout) const {
    UniqueFd fd = open_checked();
    if (!fd) return true;
    const auto deadline = timeout ? std::chrono::steady_clock::now() + *timeout
                                  : std::chrono::steady_clock::time_point::max();
    for (;;) {
        int ms = -1;
        if (timeout) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            ms = static_cast<int>(std::max<int64_t>(0, left.count()));
        }
        pollfd p{fd.get(), POLLIN, 0};
        const int r = ::poll(&p, 1, ms);
        if (r > 0) return true;
        if (r == 0) {
            // A zombie that nobody reaps (its parent is gone too) counts as gone.
            char state = 0;
            uint64_t start = 0;
            return !read_stat(pid_, state, start) || state == 'Z' || state == 'X';
        }
        if (errno != EINTR) return !alive();
    }
}

}  // namespace strata
