// ContainerRunner — runs RUN steps in short-lived containers (the
// RunExecutor of a real build).
//
// For each step: an overlay of the parent's unpacked layers with the step's
// empty upper directory, entered through fresh mount, PID, IPC and UTS
// namespaces (and a network namespace for --network=none; the default and
// --network=host share the host's network, as BuildKit with
// --network=host does — strata has no bridge networking), with
// runtime/strata-init as PID 1 (it mounts /proc, /dev, /sys, /etc/hosts,
// /etc/resolv.conf and the --mount mounts, pivots, and runs the command as
// the step's user with Docker's default capabilities).
//
// Nothing can be left behind: every mount lives in the container's own mount
// namespace and goes away with its last process; init is PID 1 of its PID
// namespace, so when it ends the kernel kills everything else in it; and init
// gets SIGKILL when the strata thread that started it ends
// (PR_SET_PDEATHSIG), also when strata itself is killed.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "executor/run_executor.hpp"

namespace strata::executor {

class ContainerRunner final : public RunExecutor {
  public:
    explicit ContainerRunner(std::filesystem::path init_binary);

    void run(const RunRequest& request) override;

    // strata-init next to the running strata binary, or $STRATA_INIT;
    // nullopt when there is none.
    static std::optional<std::filesystem::path> find_init();
    // Why RUN steps cannot run here ("" when they can): not root, or no
    // strata-init. Checked once, when the first RUN step needs it.
    static std::string unavailable_reason(const std::optional<std::filesystem::path>& init);

  private:
    std::filesystem::path init_;
};

// The RunExecutor for this machine: a ContainerRunner when RUN steps can
// run here, else one that fails every RUN step with the reason.
std::unique_ptr<RunExecutor> make_run_executor();

// The process status as BuildKit reports a failed RUN:
// `process "/bin/sh -c false" did not complete successfully: exit code: 1`.
std::string run_failure_message(const std::vector<std::string>& argv, int exit_code);

}  // namespace strata::executor
