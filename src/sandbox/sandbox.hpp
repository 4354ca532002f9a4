// Sandbox — turns a Spec into an isolated process and waits for it.
//
// The process is runtime/strata-init, started as PID 1 of new mount, PID,
// IPC, UTS and cgroup namespaces (a network namespace too unless the host's
// is asked for), inside a cgroup of its own; init mounts the root and the
// mounts, pivots, applies capabilities and seccomp and runs the command
// (docs/run.md has the whole list, next to what runc does).
//
// Nothing can be left behind: every mount lives in the container's mount
// namespace and goes with its last process; init is PID 1 of its PID
// namespace, so the kernel kills the rest when it ends; init gets SIGKILL
// when the strata thread that started it ends (PR_SET_PDEATHSIG), also when
// strata itself is killed; the cgroup is emptied and removed afterwards.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "sandbox/spec.hpp"

namespace strata::sandbox {

// strata-init next to the running strata binary (or ../libexec/strata/), or
// $STRATA_INIT; nullopt when there is none.
std::optional<std::filesystem::path> find_init();

class Sandbox {
  public:
    explicit Sandbox(std::filesystem::path init_binary);

    // Runs `spec` to its end. Throws Error for what strata itself could not
    // do (no scratch directory, clone failed); what went wrong inside the
    // container is in Result::setup_error / exit_code.
    Result run(const Spec& spec, const OutputSink& output) const;

    // The last lines the process printed, kept for error messages.
    static constexpr size_t kTailLines = 20;

  private:
    std::filesystem::path init_;
};

}  // namespace strata::sandbox
