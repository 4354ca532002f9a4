#include "sandbox/exec_target.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <set>

#include "base/error.hpp"
#include "base/process_ref.hpp"
#include "sandbox/cgroup_files.hpp"
#include "sandbox/cgroup_place.hpp"

namespace strata::sandbox {

std::vector<int> ExecTarget::cgroup_join_fds() const {
    std::vector<int> fds;
    for (const auto& f : cgroup_join)
        fds.push_back(f.get());
    return fds;
}

namespace {

Error not_running(pid_t pid, const std::string& why) {
    return Error(ErrorKind::kNotFound,
                 "the container is not running: its process " + std::to_string(pid) + " " + why);
}

// Whether the process behind `pidfd` still runs (so that what was read from
// /proc/PID meanwhile was its).
bool alive(int pidfd) {
    return ::syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) == 0;
}

}  // namespace

ExecTarget open_exec_target(pid_t pid, uint64_t pid_start) {
    if (pid <= 0)
        throw Error(ErrorKind::kUsage,
                    "exec: no container process given (pid " + std::to_string(pid) + ")");
    ExecTarget t;
    t.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!t.pidfd) {
        if (errno == ESRCH) throw not_running(pid, "is gone");
        throw system_error("pidfd_open", "/proc/" + std::to_string(pid));
    }
    // The pidfd names one process; if the pid was reused before it was
    // opened, the start time tells.
    const auto started = process_start_time(pid);
    if (!started) throw not_running(pid, "is gone");
    if (pid_start != 0 && *started != pid_start)
        throw not_running(pid, "is gone (the pid now belongs to another process)");
    const std::string proc = "/proc/" + std::to_string(pid);
    t.root.reset(::open((proc + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!t.root) {
        if (errno == ENOENT || errno == ESRCH) throw not_running(pid, "is gone");
        throw system_error("open the container's root", proc + "/root");
    }
    const auto cgroup = cgroup_files::read_value(proc + "/cgroup");
    const auto mountinfo = cgroup_files::read_value("/proc/self/mountinfo");
    if (!alive(t.pidfd.get())) throw not_running(pid, "is gone");
    if (!cgroup || !mountinfo) return t;  // no cgroups here: nothing to join
    struct statfs sfs {};
    const bool v2 = ::statfs("/sys/fs/cgroup", &sfs) == 0 &&
                    static_cast<unsigned long>(sfs.f_type) == CGROUP2_SUPER_MAGIC;
    const auto place = parse_cgroup_place(*mountinfo, *cgroup, v2);
    if (!place) return t;
    std::set<std::string> files;
    if (place->version == CgroupVersion::kV1) {
        for (const auto& [controller, dir] : place->v1)
            files.insert(dir + "/tasks");
    } else {
        files.insert(place->v2 + "/cgroup.procs");
    }
    // A container without cgroups of its own (rootless) is where strata is:
    // nothing to join there (and its files are not the user's to write).
    const auto own = cgroup_files::read_value("/proc/self/cgroup");
    if (const auto here = own ? parse_cgroup_place(*mountinfo, *own, v2) : std::nullopt) {
        if (here->version == CgroupVersion::kV1) {
            for (const auto& [controller, dir] : here->v1)
                files.erase(dir + "/tasks");
        } else {
            files.erase(here->v2 + "/cgroup.procs");
        }
    }
    for (const auto& f : files) {
        UniqueFd fd(::open(f.c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd) throw system_error("open the container's cgroup to join it", f);
        t.cgroup_join.push_back(std::move(fd));
    }
    return t;
}

}  // namespace strata::sandbox
