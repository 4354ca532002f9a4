#include "base/run_program.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "base/error.hpp"
#include "base/pipe.hpp"
#include "base/sigpipe_block.hpp"
#include "base/unique_fd.hpp"

extern char** environ;

namespace strata {

namespace {

// Owns a started child: killed and reaped unless it was waited for.
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
    std::optional<int> wait_until(std::optional<std::chrono::steady_clock::time_point> deadline) {
        for (;;) {
            int status = 0;
            const pid_t r = ::waitpid(pid_, &status, deadline ? WNOHANG : 0);
            if (r == pid_) {
                pid_ = -1;
                return status;
            }
            if (r < 0 && errno != EINTR) {
                pid_ = -1;
                return std::nullopt;
            }
            if (deadline && std::chrono::steady_clock::now() >= *deadline) return std::nullopt;
            if (deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }

  private:
    pid_t pid_;
};

class SpawnActions {
  public:
    SpawnActions() { posix_spawn_file_actions_init(&a_); }
    ~SpawnActions() { posix_spawn_file_actions_destroy(&a_); }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
    posix_spawn_file_actions_t* get() { return &a_; }

  private:
    posix_spawn_file_actions_t a_;
};

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings)
        out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

}  // namespace

bool ProgramResult::succeeded() const {
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string ProgramResult::how() const {
    return WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                             : fmt::format("killed by signal {}", WTERMSIG(status));
}

ProgramResult run_program(const ProgramRun& run) {
    Pipe in = make_pipe(run.program), out = make_pipe(run.program), err = make_pipe(run.program);
    SpawnActions actions;
    posix_spawn_file_actions_adddup2(actions.get(), in.read.get(), 0);
    posix_spawn_file_actions_adddup2(actions.get(), out.write.get(), 1);
    posix_spawn_file_actions_adddup2(actions.get(), err.write.get(), 2);
    if (!run.cwd.empty()) posix_spawn_file_actions_addchdir_np(actions.get(), run.cwd.c_str());
    std::vector<std::string> args{run.program};
    args.insert(args.end(), run.args.begin(), run.args.end());
    std::vector<char*> argv = pointers(args);
    std::vector<std::string> env = run.env.value_or(std::vector<std::string>{});
    std::vector<char*> envp = pointers(env);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, run.program.c_str(), actions.get(), nullptr, argv.data(),
                                  run.env ? envp.data() : environ);
    if (rc == ENOENT)
        throw Error(ErrorKind::kNotFound,
                    fmt::format("{} is not installed (not found in PATH)", run.program));
    if (rc != 0)
        throw Error(ErrorKind::kSystem,
                    fmt::format("start {}: {}", run.program, std::strerror(rc)));
    Child child(pid);
    in.read.reset();
    out.write.reset();
    err.write.reset();

    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (run.timeout) deadline = std::chrono::steady_clock::now() + *run.timeout;
    const auto too_late = [&] {
        return Error(ErrorKind::kSystem,
                     fmt::format("{} did not finish within {} s and was killed", run.program,
                                 static_cast<double>(run.timeout->count()) / 1000.0));
    };
    ProgramResult result;
    size_t written = 0;
    {
        SigpipeBlock sigpipe;
        if (run.input.empty()) in.write.reset();
        while (out.read || err.read) {
            struct pollfd fds[3] = {{out.read ? out.read.get() : -1, POLLIN, 0},
                                    {err.read ? err.read.get() : -1, POLLIN, 0},
                                    {in.write ? in.write.get() : -1, POLLOUT, 0}};
            int wait_ms = 1000;
            if (deadline) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    *deadline - std::chrono::steady_clock::now());
                if (left.count() <= 0) throw too_late();
                wait_ms = static_cast<int>(std::min<long long>(left.count(), 1000));
            }
            const int n = ::poll(fds, 3, wait_ms);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw system_error("poll", run.program);
            }
            for (int i = 0; i < 2; ++i) {
                if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                char buf[8192];
                const ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0)
                    (i == 0 ? out.read : err.read).reset();
                else
                    (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(r));
            }
            if (in.write && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
                const ssize_t w =
                    ::write(in.write.get(), run.input.data() + written, run.input.size() - written);
                if (w > 0) written += static_cast<size_t>(w);
                if (w < 0 && errno == EPIPE) sigpipe.saw_epipe();
                if ((w < 0 && errno != EINTR && errno != EAGAIN) || written == run.input.size())
                    in.write.reset();
            }
        }
    }
    const auto status = child.wait_until(deadline);
    if (!status) {
        if (deadline) throw too_late();
        throw system_error("waitpid", run.program);
    }
    result.status = *status;
    return result;
}

}  // namespace strata
