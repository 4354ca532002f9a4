// Running a docker-credential-NAME helper: posix_spawnp with three pipes,
// the input written and both outputs read in one poll loop under a deadline,
// the child killed and reaped by its owner on every way out.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "base/error.hpp"
#include "base/pipe.hpp"
#include "base/sigpipe_block.hpp"
#include "base/unique_fd.hpp"
#include "registry/credentials.hpp"

extern char** environ;

namespace strata::registry {

namespace {

// docker-credential-helpers' credentials.errCredentialsNotFoundMessage.
constexpr std::string_view kNotFoundMessage = "credentials not found in native keychain";

// Owns a started helper: killed and reaped unless it was waited for.
class Child {
  public:
    explicit Child(pid_t pid) : pid_(pid) {}
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        int status;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
    }
    // The wait status, or nullopt if the child has not exited by `deadline`.
    std::optional<int> wait_until(std::chrono::steady_clock::time_point deadline) {
        for (;;) {
            int status = 0;
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                pid_ = -1;
                return status;
            }
            if (r < 0 && errno != EINTR) {
                pid_ = -1;
                return std::nullopt;
            }
            if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }

  private:
    pid_t pid_;
};

std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

std::string redact(std::string s, std::string_view secret) {
    if (secret.empty()) return s;
    for (auto pos = s.find(secret); pos != std::string::npos; pos = s.find(secret, pos + 10))
        s.replace(pos, secret.size(), "<redacted>");
    return s;
}

}  // namespace

std::string run_credential_helper(const std::string& name, const std::string& action,
                                  std::string_view input, std::chrono::milliseconds timeout,
                                  std::string_view secret) {
    const std::string program = "docker-credential-" + name;
    const std::string what = fmt::format("{} {}", program, action);
    Pipe in = make_pipe(what), out = make_pipe(what), err = make_pipe(what);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in.read.get(), 0);
    posix_spawn_file_actions_adddup2(&actions, out.write.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, err.write.get(), 2);
    std::string arg0 = program, arg1 = action;
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        if (rc == ENOENT)
            throw Error(ErrorKind::kSystem,
                        fmt::format("credential helper {} is not installed (not found in PATH): "
                                    "install it, or remove \"{}\" from credsStore/credHelpers in "
                                    "the Docker client's config.json",
                                    program, name));
        throw Error(ErrorKind::kSystem,
                    fmt::format("start credential helper {}: {}", program, std::strerror(rc)));
    }
    Child child(pid);
    in.read.reset();
    out.write.reset();
    err.write.reset();

    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string stdout_text, stderr_text;
    size_t written = 0;
    {
        SigpipeBlock sigpipe;
        if (input.empty()) in.write.reset();
        while (out.read || err.read) {
            struct pollfd fds[3] = {{out.read ? out.read.get() : -1, POLLIN, 0},
                                    {err.read ? err.read.get() : -1, POLLIN, 0},
                                    {in.write ? in.write.get() : -1, POLLOUT, 0}};
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                throw Error(ErrorKind::kSystem,
                            fmt::format("credential helper {} did not finish within {} s and was "
                                        "killed",
                                        what, timeout.count() / 1000.0));
            const int n = ::poll(fds, 3, int(std::min<long long>(left.count(), 1000)));
            if (n < 0) {
                if (errno == EINTR) continue;
                throw system_error("poll", program);
            }
            for (int i = 0; i < 2; ++i) {
                if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                char buf[8192];
                const ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0)
                    (i == 0 ? out.read : err.read).reset();
                else
                    (i == 0 ? stdout_text : stderr_text).append(buf, size_t(r));
            }
            if (in.write && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
                const ssize_t w =
                    ::write(in.write.get(), input.data() + written, input.size() - written);
                if (w > 0) written += size_t(w);
                if (w < 0 && errno == EPIPE) sigpipe.saw_epipe();
                if ((w < 0 && errno != EINTR && errno != EAGAIN) || written == input.size())
                    in.write.reset();
            }
        }
    }
    const auto status = child.wait_until(deadline);
    if (!status)
        throw Error(ErrorKind::kSystem,
                    fmt::format("credential helper {} did not finish within {} s and was killed",
                                what, timeout.count() / 1000.0));
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return stdout_text;

    // Helpers print their error on stdout (docker-credential-helpers'
    // Serve); some use stderr. Never the secret: redacted in case one echoes.
    const std::string said = trim(stdout_text), said_err = trim(stderr_text);
    if (said == kNotFoundMessage || said_err == kNotFoundMessage)
        throw Error(ErrorKind::kNotFound, fmt::format("{}: {}", what, kNotFoundMessage));
    std::string message = said;
    if (!said_err.empty()) message += (message.empty() ? "" : "; ") + said_err;
    const std::string how = WIFEXITED(*status)
                                ? fmt::format("exit status {}", WEXITSTATUS(*status))
                                : fmt::format("killed by signal {}", WTERMSIG(*status));
    throw Error(ErrorKind::kSystem,
                fmt::format("credential helper {} failed ({}){}{}", what, how,
                            message.empty() ? "" : ": ", redact(message, secret)));
}

}  // namespace strata::registry
