#include "sandbox/cgroup_kill.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "sandbox/cgroup_files.hpp"

namespace strata::sandbox {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPatience = std::chrono::seconds(10);

bool all_empty(const std::vector<std::string>& dirs) {
    for (const std::string& d : dirs)
        if (!cgroup_files::read_procs(d).empty()) return false;
    return true;
}

void kill_listed(const std::vector<std::string>& dirs) {
    for (const std::string& d : dirs)
        for (pid_t pid : cgroup_files::read_procs(d))
            ::kill(pid, SIGKILL);
}

// Waits a little longer each round: most cgroups empty within a millisecond.
void pause(int round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(round < 10 ? 1 : 20));
}

// v1: a frozen process cannot fork or move, so one pass over cgroup.procs
// catches all; SIGKILL takes effect when the cgroup is thawed.
void freeze_v1(const std::string& freezer, Clock::time_point until) {
    if (cgroup_files::write_value(freezer + "/freezer.state", "FROZEN") != 0) return;
    for (int round = 0; Clock::now() < until; ++round) {
        const auto state = cgroup_files::read_value(freezer + "/freezer.state");
        if (!state || state->rfind("FROZEN", 0) == 0) return;
        pause(round);
    }
}

}  // namespace

bool kill_and_remove(const CgroupDirs& cgroup) noexcept {
    try {
        const auto until = Clock::now() + kPatience;
        if (cgroup.version == CgroupVersion::kV2) {
            for (const std::string& d : cgroup.dirs) {
                if (cgroup_files::write_value(d + "/cgroup.kill", "1") == 0) continue;
                const bool freeze = cgroup_files::write_value(d + "/cgroup.freeze", "1") == 0;
                kill_listed({d});
                if (freeze) cgroup_files::write_value(d + "/cgroup.freeze", "0");
            }
            for (int round = 0; !all_empty(cgroup.dirs) && Clock::now() < until; ++round) {
                kill_listed(cgroup.dirs);
                pause(round);
            }
        } else {
            for (int round = 0; !all_empty(cgroup.dirs) && Clock::now() < until; ++round) {
                if (!cgroup.freezer.empty()) freeze_v1(cgroup.freezer, until);
                kill_listed(cgroup.dirs);
                if (!cgroup.freezer.empty())
                    cgroup_files::write_value(cgroup.freezer + "/freezer.state", "THAWED");
                pause(round);
            }
        }
        bool removed = true;
        for (auto it = cgroup.dirs.rbegin(); it != cgroup.dirs.rend(); ++it) {
            for (int round = 0;; ++round) {
                if (::rmdir(it->c_str()) == 0 || errno == ENOENT) break;
                // EBUSY while the last processes finish exiting.
                if (errno != EBUSY || Clock::now() >= until) {
                    removed = false;
                    break;
                }
                pause(round);
            }
        }
        return removed;
    } catch (...) {  // std::bad_alloc: nothing better to do in a destructor
        return false;
    }
}

}  // namespace strata::sandbox
