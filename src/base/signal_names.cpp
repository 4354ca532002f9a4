#include "base/signal_names.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <csignal>
#include <string>
#include <tuple>
#include <utility>

namespace strata {

namespace {

constexpr std::pair<std::string_view, int> kNames[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
    {"CLD", SIGCHLD},  {"CONT", SIGCONT}, {"FPE", SIGFPE},       {"HUP", SIGHUP},
    {"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGIOT},
    {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},     {"PROF", SIGPROF},
    {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT},
    {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

std::optional<int> whole_number(std::string_view s) {
    int n = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return n;
}

}  // namespace

std::optional<int> signal_number(std::string_view text) {
    if (auto n = whole_number(text)) {
        if (*n >= 1 && *n <= 64) return n;
        return std::nullopt;
    }
    std::string name(text);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (name.rfind("SIG", 0) == 0) name.erase(0, 3);
    for (const auto& [n, number] : kNames)
        if (n == name) return number;
    // Docker's table numbers these from the kernel's 34 and 64 (not glibc's
    // SIGRTMIN, which reserves two for threads).
    constexpr int kRtMin = 34, kRtMax = 64;
    if (name == "RTMIN") return kRtMin;
    if (name == "RTMAX") return kRtMax;
    for (const auto& [prefix, max, base, sign] :
         {std::tuple<std::string_view, int, int, int>{"RTMIN+", 15, kRtMin, 1},
          std::tuple<std::string_view, int, int, int>{"RTMAX-", 14, kRtMax, -1}}) {
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string_view rest = std::string_view(name).substr(prefix.size());
        if (rest.empty() || rest[0] == '0') return std::nullopt;
        const auto n = whole_number(rest);
        if (!n || *n < 1 || *n > max) return std::nullopt;
        return base + sign * *n;
    }
    return std::nullopt;
}

}  // namespace strata
