// Running a container: its record (container_record.hpp) becomes a
// sandbox::Spec — the image's layers read-only below its upper directory,
// its mounts, its process (argv, env, user, working directory, hostname),
// its network (a PrivateNetwork of its own with -p forwarded, the host's,
// or none) and its isolation (capabilities, seccomp, limits, privileged) —
// and src/sandbox/ runs it, while state.json follows it: Running with the
// init's pid, then Exited with the exit code.
//
// `strata run` (foreground), `start -a` and the detached monitor of
// `run -d` / `start` all run a container through run_container(); what they
// differ in is where the bytes go (RunIo).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "containers/container_record.hpp"
#include "store/image_store.hpp"

namespace strata::containers {

struct RunIo {          // where the container's process talks
    int stdin_fd = -1;  // -i: the caller's stdin; -1: /dev/null
    // Every byte, as it comes: stdout and stderr apart (no -t), or the
    // pseudo-terminal's bytes (as stdout) with -t.
    std::function<void(std::string_view bytes, bool is_stderr)> output;
    // -t: called once with the pty master, for the caller to put its
    // terminal in raw mode. The runner copies io.stdin_fd to the master,
    // the master to `output`, and the caller's window size (stdin's, else
    // stdout's terminal) to the master, at the start and on SIGWINCH.
    std::function<void(int master_fd)> on_terminal;
    // Called once the process runs and state.json says Running (the -d
    // monitor then tells `run -d` to print the ID and return).
    std::function<void()> on_started;
};

// Runs the container to its end: marks it Running (pid, pid_start,
// monitor_pid = getpid(), started_at) in state.json under its lock, runs it,
// marks it Exited (exit code, finished_at, oom_killed) — also when strata
// fails midway. Returns the exit code: the process's; 125 when strata could
// not set the container up, 126 when the command is not executable, 127
// when it was not found — then c.state.error holds Docker's message
// ("unable to start container process: exec: \"nosuch\": executable file
// not found in $PATH"), for the caller to print. Throws Error (after
// recording the failure) only for what it cannot record. `c.state` is left
// as saved. Every output byte is also appended to the container's log
// (json-file, container_log.hpp), so `strata logs` works for every
// container. While it runs, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and
// SIGUSR2 sent to this process go to the container (docker run's
// --sig-proxy); the previous handlers are back when it returns. With
// spec.auto_remove the container and its anonymous volumes are removed
// after (`--rm`).
int run_container(store::ImageStore& store, ContainerStore& containers, Container& c,
                  const RunIo& io);

// `strata exec`: one more process in the running container `c`, in its
// namespaces and cgroup, with its capabilities, seccomp profile and
// no_new_privileges (every capability with `privileged`).
struct ExecOptions {
    std::vector<std::string> argv;
    std::vector<std::string> env;  // -e K=V over the container's environment
    std::string user;              // "" = the container's user
    std::string workdir;           // "" = the container's working directory
    bool tty = false, privileged = false;
};
// Runs it to its end and returns its exit code (126/127 with a message in
// `error` when it could not be started). Error(kConflict) "Container ID is
// not running" when the container is not. With `tty`, io.stdin_fd is copied
// to the pseudo-terminal; without, it is the process's stdin. Nothing goes
// to the container's log (as with Docker).
int exec_in_container(const Container& c, const ExecOptions& options, const RunIo& io,
                      std::string& error);

}  // namespace strata::containers
