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
//
// Threads: the parent death signal belongs to the *thread* that called
// start() or exec(), not to the process (prctl(2)): when that thread ends,
// the container is killed. Call wait() on the thread that started it (a
// thread per container), and keep that thread alive while the container
// runs. A RUN step's container (a scratch upper, no terminal) is the
// exception: the zygote starts it (zygote.hpp), and it is killed when the
// process ends.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "base/process_ref.hpp"
#include "base/unique_fd.hpp"
#include "sandbox/pty.hpp"
#include "sandbox/spec.hpp"

namespace strata {
class TempDir;
}

namespace strata::sandbox {

// strata-init next to the running strata binary (or ../libexec/strata/), or
// $STRATA_INIT; nullopt when there is none.
std::optional<std::filesystem::path> find_init();

// A started container (Sandbox::start) or a process started in one
// (Sandbox::exec). Not waited for when destroyed: its init is killed
// (SIGKILL: in a container that takes every process of it along) and
// reaped, its cgroup and scratch removed.
class SandboxProcess {
  public:
    SandboxProcess(SandboxProcess&&) noexcept;
    SandboxProcess& operator=(SandboxProcess&&) noexcept;
    ~SandboxProcess();

    // Host pid of strata-init: the container's PID 1 (start), or the
    // process that entered the container and waits for the command (exec).
    // Valid until wait() returned.
    pid_t pid() const;
    // Its start time (field 22 of /proc/PID/stat, clock ticks since boot),
    // which tells this process from a later one with the same pid: what a
    // state file records next to the pid (ExecSpec::pid_start).
    uint64_t start_time() const;

    // Stdio::tty: the master of the container's pseudo-terminal, -1 without
    // one. Owned by this object until taken.
    int pty_master() const;
    UniqueFd take_pty_master();

    // Sends `sig` to init, which forwards every signal it can catch to the
    // command (SIGKILL and SIGSTOP act on init itself: SIGKILL ends the
    // container). Throws Error when the kernel refuses.
    void signal(int sig) const;

    // Waits for the end (reading the line pipe into `output` when stdout or
    // stderr is the default) and cleans up — or, with `leave_cleanup`, hands
    // the scratch directory and (with a PID namespace) the emptied cgroup to
    // Result::leftovers. Once only.
    Result wait(const OutputSink& output = {}, bool leave_cleanup = false);
    bool waited() const;
    // The command never ran: init reported why (not found: 127, not
    // executable: 126, a setup error: 125) and wait() returns it.
    bool failed_to_start() const;

    struct State;  // sandbox_process_state.hpp

  private:
    friend class Sandbox;
    explicit SandboxProcess(std::unique_ptr<State> state);
    std::unique_ptr<State> s_;
};

// What start() makes before the clone that depends on neither the root nor
// the command: the scratch directory (rootfs/, hosts, resolv.conf) and the
// isolation (capabilities, the seccomp program, the cgroup and its limits).
// Sandbox::prepare() makes it ahead of time — a RUN step's while the step
// before it runs — so that start() has less to do. A start() whose spec
// differs in any of those inputs drops it and makes its own; dropped
// unused, it removes what it made.
class PreparedStart {
  public:
    PreparedStart();
    PreparedStart(PreparedStart&&) noexcept;
    PreparedStart& operator=(PreparedStart&&) noexcept;
    ~PreparedStart();
    explicit operator bool() const { return s_ != nullptr; }

    struct State;  // sandbox.cpp

  private:
    friend class Sandbox;
    std::unique_ptr<State> s_;
};

class Zygote;

class Sandbox {
  public:
    explicit Sandbox(std::filesystem::path init_binary);

    // Runs `spec` to its end: start() then wait(output), what is left to
    // clean up in Result::leftovers (a RUN step's, released later). Throws Error for
    // what strata itself could not do (no scratch directory, clone failed);
    // what went wrong inside the container is in Result::setup_error /
    // exit_code.
    Result run(const Spec& spec, const OutputSink& output) const;

    // Starts `spec` and returns once its command runs (or setup failed:
    // wait() then says why). `io` names the process's stdio; its
    // descriptors may be closed by the caller when this returns.
    // `ready`: made by prepare() for an earlier spec, used when it fits.
    SandboxProcess start(const Spec& spec, const Stdio& io = {}, PreparedStart ready = {}) const;

    // What start(spec) would make first (see PreparedStart). Throws Error
    // (or std::filesystem_error) as start() would.
    PreparedStart prepare(const Spec& spec) const;

    // Starts what containers like `spec` share across starts — the zygote
    // that starts a RUN step's (zygote.hpp) — ahead of the first.
    void warm_up(const Spec& spec) const;

    // Starts a process inside the running container whose init is
    // `spec.pid`, as `docker exec` does: in its namespaces and cgroups, as
    // the user resolved in its /etc/passwd, with the capabilities, seccomp
    // profile and no_new_privileges given (the container's), exit code
    // 126/127 when the command cannot be run. The process is killed when
    // its SandboxProcess goes away or the starting thread ends. Throws
    // Error when the container is not running (no such pid, or a pid that
    // belongs to a later process than `spec.pid_start`).
    SandboxProcess exec(const ExecSpec& spec, const Stdio& io = {}) const;

    // The last lines the process printed, kept for error messages.
    static constexpr size_t kTailLines = 20;

  private:
    Zygote* zygote_for(const Spec& spec) const;  // nullptr: clone and exec here
    std::shared_ptr<TempDir> shared_scratch(const Spec& spec) const;

    std::filesystem::path init_;
    struct SharedScratch;  // sandbox.cpp
    std::shared_ptr<SharedScratch> shared_;
};

}  // namespace strata::sandbox
