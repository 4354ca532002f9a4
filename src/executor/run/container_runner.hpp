// ContainerRunner — runs RUN steps in short-lived containers (the
// RunExecutor of a real build): it turns a step into a sandbox spec (the
// parent's layers under a fresh upper directory, the --mount mounts, the
// process, the build's isolation settings) and src/sandbox/ runs it.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "base/temp_dir.hpp"
#include "base/thread_pool.hpp"
#include "executor/run/run_executor.hpp"
#include "sandbox/private_network.hpp"
#include "sandbox/sandbox.hpp"

namespace strata::executor {

// What a build sets for all its RUN steps.
struct RunnerOptions {
    std::string network = "default";  // build --network: default, host, none
    sandbox::Limits limits;           // build --memory, --cpus, --pids-limit
    // build --isolation: kAuto probes at the first RUN step and falls back to
    // chroot isolation, with one warning, where the sandbox cannot be made.
    sandbox::IsolationMode isolation = sandbox::IsolationMode::kAuto;
};

class ContainerRunner final : public RunExecutor {
  public:
    ContainerRunner(std::filesystem::path init_binary, RunnerOptions options);
    ~ContainerRunner() override;

    void run(const RunRequest& request) override;
    void warm_up(const planner::RunStep& step,
                 const std::filesystem::path& scratch_parent) override;

    // Why RUN steps cannot run here ("" when they can): not root, or no
    // strata-init. Checked once, when the first RUN step needs it.
    static std::string unavailable_reason(const std::optional<std::filesystem::path>& init);

  private:
    sandbox::Network network_for(const planner::RunStep& step);
    // The build's private network, started by the first step that needs it
    // and shared by the rest (one pasta per build).
    const sandbox::PrivateNetwork& private_network();
    // The isolation of this build's RUN steps, decided at the first one
    // (probe_isolation).
    sandbox::Isolation isolation_for_build(const std::filesystem::path& scratch);
    // Why the isolation fell back to chroot, once ("" after, or without).
    std::string take_isolation_warning();
    // The part of a step's spec its start depends on besides its root and
    // command (what a PreparedStart is made for): scratch parent,
    // isolation, network, hostname and its files.
    sandbox::Spec start_spec(const planner::RunStep& step,
                             const std::filesystem::path& scratch_parent);
    sandbox::PreparedStart take_prepared();
    void prepare_next(const sandbox::Spec& spec);

    sandbox::Sandbox sandbox_;
    RunnerOptions options_;
    std::mutex network_mutex_;
    std::optional<sandbox::PrivateNetwork> network_;
    std::mutex isolation_mutex_;
    std::optional<sandbox::Isolation> isolation_;  // mode and ChrootAllowed, once decided
    std::string isolation_warning_;                // not yet shown by a step
    // The next step's scratch directory and cgroup, made while a step's
    // command runs when a later step is a RUN, or by warm_up
    // (sandbox::PreparedStart).
    std::mutex prepared_mutex_;
    sandbox::PreparedStart prepared_;
    // What killed strata processes left (claimed with
    // sandbox::claim_stale_cgroups_sweep, then sandbox::remove_stale_cgroups),
    // swept beside the warm-up instead of in the first container's start.
    TaskGroup sweep_;
};

// The RunExecutor for this machine: a ContainerRunner when RUN steps can
// run here, else one that fails every RUN step with the reason.
std::unique_ptr<RunExecutor> make_run_executor(RunnerOptions options = {});

// The process status as BuildKit reports a failed RUN:
// `process "/bin/sh -c false" did not complete successfully: exit code: 1`.
std::string run_failure_message(const std::vector<std::string>& argv, int exit_code);

}  // namespace strata::executor
