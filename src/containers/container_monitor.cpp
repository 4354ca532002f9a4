#include "containers/container_monitor.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace strata::containers {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kStarted = "started\n";

}  // namespace

fs::path self_executable() {
    std::error_code ec;
    fs::path p = fs::read_symlink("/proc/self/exe", ec);
    if (ec) throw system_error("readlink", "/proc/self/exe", ec.value());
    return p;
}

MonitorReport spawn_monitor(const fs::path& exe, const std::vector<std::string>& args) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw system_error("pipe", "for the container monitor");
    UniqueFd read_end(p[0]), write_end(p[1]);

    // Everything the children need, made before fork (no allocation after).
    std::vector<std::string> full;
    full.push_back(exe.string());
    full.insert(full.end(), args.begin(), args.end());
    full.push_back("--ready-fd=" + std::to_string(write_end.get()));
    std::vector<char*> argv;
    for (auto& a : full)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    const UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null) throw system_error("open", "/dev/null");

    const pid_t first = ::fork();
    if (first < 0) throw system_error("fork", "the container monitor");
    if (first == 0) {
        // The intermediate child: a new session, then the monitor, then gone.
        ::setsid();
        if (::chdir("/") != 0) ::_exit(1);  // hold no directory busy
        const pid_t second = ::fork();
        if (second != 0) ::_exit(second < 0 ? 1 : 0);
        ::dup2(null.get(), 0);
        ::dup2(null.get(), 1);
        ::dup2(null.get(), 2);
        ::fcntl(write_end.get(), F_SETFD, 0);  // the monitor keeps this one
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    write_end.reset();
    int status = 0;
    while (::waitpid(first, &status, 0) < 0 && errno == EINTR) {
    }

    std::string said;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(read_end.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        said.append(buf, static_cast<size_t>(n));
    }
    MonitorReport r;
    if (said == kStarted) {
        r.started = true;
    } else if (said.empty()) {
        r.error = "the container's monitor process ended before the container started";
    } else {
        r.error = said;
        while (!r.error.empty() && r.error.back() == '\n')
            r.error.pop_back();
    }
    return r;
}

void report_to_spawner(int& fd, std::string_view error) {
    if (fd < 0) return;
    const std::string msg = error.empty() ? std::string(kStarted) : std::string(error);
    size_t off = 0;
    while (off < msg.size()) {
        const ssize_t n = ::write(fd, msg.data() + off, msg.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        off += static_cast<size_t>(n);
    }
    ::close(fd);
    fd = -1;
}

}  // namespace strata::containers
