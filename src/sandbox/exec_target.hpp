// The running container a `strata exec` enters, opened from the host: its
// init pinned by a pidfd (so that a pid the kernel gave to a later process
// is never entered), the root it sees, and the files that join its cgroups.
// strata-init joins the namespaces through the pidfd (setns(2) with a pidfd:
// all of them at once) and enters the root by fchdir + chroot, as nsenter's
// --root does, so that a container made by chroot isolation works too.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"

namespace strata::sandbox {

struct ExecTarget {
    UniqueFd pidfd;  // pidfd_open(pid)
    UniqueFd root;   // /proc/PID/root, O_PATH
    // The container's cgroups, one file per hierarchy (`tasks` on v1, as the
    // sandbox joins: a single-threaded writer moves itself; `cgroup.procs`
    // on v2), O_WRONLY: the child writes "0" to each before it execs.
    std::vector<UniqueFd> cgroup_join;
    std::vector<int> cgroup_join_fds() const;
};

// Opens the container whose init is `pid`. Throws Error(kNotFound) naming
// the pid when it is not running — no such process, or (with `pid_start`
// other than 0) a process started at another time than the container's
// init — and Error for what cannot be opened.
ExecTarget open_exec_target(pid_t pid, uint64_t pid_start);

}  // namespace strata::sandbox
