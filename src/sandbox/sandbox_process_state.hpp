// SandboxProcess::State: what a started container (or exec'd process) holds
// from Sandbox::start()/exec() until SandboxProcess::wait() — shared by the
// start (sandbox.cpp), the clone (launch.cpp) and the wait
// (sandbox_process.cpp). Internal to the sandbox.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "sandbox/chroot_isolation.hpp"
#include "sandbox/isolation_setup.hpp"
#include "sandbox/sandbox.hpp"

namespace strata::sandbox {

struct SandboxProcess::State {
    pid_t pid = -1;
    bool waited = false;
    mutable std::optional<uint64_t> start_time;
    std::string description;
    UniqueFd out_read;        // the line pipe, when stdout or stderr is the default
    UniqueFd pty;             // Stdio::tty: the master, until taken
    std::string status_text;  // what init wrote to the status pipe before the command ran
    // start() only: what wait() finishes.
    std::shared_ptr<TempDir> scratch;  // shared with other containers, or its own
    std::optional<IsolationSetup> iso;
    RootFs root;
    std::filesystem::path rootfs;
    bool chroot_mode = false;
    std::optional<TreeSnapshot> chroot_snapshot;
    std::vector<std::string> premade_stubs;  // make_etc_stubs: removed like init's

    State() = default;
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    // Not waited for: init is killed (in a container, the PID namespace goes
    // with it) and reaped; then the cgroup (iso) and the scratch go.
    ~State() {
        if (pid > 0 && !waited) {
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
            }
        }
    }
};

}  // namespace strata::sandbox
