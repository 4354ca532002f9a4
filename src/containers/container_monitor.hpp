// The holder of a detached container (`strata run -d`, `strata start`): a
// strata process of its own, as Podman's conmon is, that runs the container
// to its end, writes its output to the log and its exit code to state.json.
//
// It is started by a double fork (so it is nobody's child once `run -d`
// returns: the system's init or a subreaper reaps it), in a session of its
// own (no terminal's signals reach it), with stdio on /dev/null. The
// container's init dies with it (the sandbox sets PDEATHSIG): a monitor that
// is killed takes its container along, and the next command that reads the
// state finds both gone and reports "Exited (unknown)" (ContainerStore::
// refresh) — never a container that nobody holds.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace strata::containers {

struct MonitorReport {
    bool started = false;
    std::string error;  // why not, as the monitor said it ("" when started)
};

// Runs `exe args... --ready-fd N` as a detached monitor and waits until it
// reports that the container started (or why it could not).
MonitorReport spawn_monitor(const std::filesystem::path& exe, const std::vector<std::string>& args);

// In the monitor: reports to the spawner and closes `fd`. `error` empty: started.
void report_to_spawner(int& fd, std::string_view error);

// This executable (/proc/self/exe), for spawning the monitor.
std::filesystem::path self_executable();

}  // namespace strata::containers
