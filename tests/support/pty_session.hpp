// A command on a pseudo-terminal of its own, as a user at a terminal runs
// it: a new session whose controlling terminal is the pty's slave, a window
// size, stdin/stdout/stderr on it. The test reads the screen and types
// (tests/cli/run_cli_test.cpp, container_rootless_cli_test.cpp).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"

namespace strata::testsupport {

class PtySession {
  public:
    // Runs argv (argv[0] a path, as execv takes it) on a new pty of
    // rows x cols. Throws std::runtime_error when no pty can be had.
    explicit PtySession(std::vector<std::string> argv, unsigned short rows = 30,
                        unsigned short cols = 91)
        : master_(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) {
        if (!master_ || ::grantpt(master_.get()) != 0 || ::unlockpt(master_.get()) != 0)
            throw std::runtime_error(std::string("a pseudo-terminal: ") + std::strerror(errno));
        const std::string slave_name = ::ptsname(master_.get());
        struct winsize ws {};
        ws.ws_row = rows;
        ws.ws_col = cols;
        std::vector<char*> args;
        for (auto& a : argv)
            args.push_back(a.data());
        args.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
        if (pid_ == 0) {
            ::setsid();
            const int slave = ::open(slave_name.c_str(), O_RDWR);
            ::ioctl(slave, TIOCSCTTY, 0);
            ::ioctl(slave, TIOCSWINSZ, &ws);
            ::dup2(slave, 0);
            ::dup2(slave, 1);
            ::dup2(slave, 2);
            ::execv(args[0], args.data());
            _exit(127);
        }
    }
    PtySession(const PtySession&) = delete;
    PtySession& operator=(const PtySession&) = delete;
    // A session the test did not wait for is killed and reaped.
    ~PtySession() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }

    // Reads the screen until it holds `needle`, the terminal closes or
    // `limit` passes; whether it holds it.
    bool read_until(const std::string& needle, std::chrono::milliseconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (!holds(needle) && std::chrono::steady_clock::now() < end) {
            pollfd p{master_.get(), POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            char buf[4096];
            const ssize_t n = ::read(master_.get(), buf, sizeof buf);
            if (n <= 0) break;  // EIO: every slave fd closed
            screen_.append(buf, static_cast<size_t>(n));
        }
        return holds(needle);
    }
    // Everything until the terminal closes (or `limit`).
    void read_to_end(std::chrono::milliseconds limit) { read_until("\x01never", limit); }
    // Whether all of `text` went to the terminal's input.
    bool type(const std::string& text) {
        return ::write(master_.get(), text.data(), text.size()) ==
               static_cast<ssize_t>(text.size());
    }
    // The exit code (128 + the signal for a killed one; -1 when already reaped).
    int wait() {
        if (pid_ <= 0) return -1;
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    const std::string& screen() const { return screen_; }
    bool holds(const std::string& needle) const {
        return screen_.find(needle) != std::string::npos;
    }

  private:
    UniqueFd master_;
    pid_t pid_ = -1;
    std::string screen_;
};

}  // namespace strata::testsupport
