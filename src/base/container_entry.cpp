#include "base/container_entry.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace strata {

bool enter_container(const int* fds, int fd_count, const int* cgroup_join, int join_count,
                     int netns_fd, bool new_cgroup_ns) {
    constexpr int kMaxFds = 128;
    if (fd_count < 0 || fd_count > kMaxFds) return false;
    // (getppid() is 0 here, in the new PID namespace, so the usual check for
    // a parent that died before this line cannot be made; the container
    // would then just run to its end, in its cgroup.)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // Into the cgroup first, so that init and all it starts are counted.
    for (int i = 0; i < join_count; ++i)
        if (::write(cgroup_join[i], "0", 1) != 1) return false;
    if (new_cgroup_ns && ::unshare(CLONE_NEWCGROUP) != 0) return false;
    if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) return false;
    // Move every source out of the way of the targets first, then into
    // place; dup2 clears close-on-exec on the targets only. (Above the
    // targets, not at a fixed 1024: a soft RLIMIT_NOFILE of 1024 is common.)
    int staged[kMaxFds];
    for (int i = 0; i < fd_count; ++i) {
        staged[i] = ::fcntl(fds[i], F_DUPFD_CLOEXEC, fd_count);
        if (staged[i] < 0) return false;
    }
    for (int i = 0; i < fd_count; ++i)
        if (::dup2(staged[i], i) < 0) return false;
    // Nothing else of strata's may reach the container.
    ::syscall(SYS_close_range, fd_count, ~0U, 0);
    return true;
}

}  // namespace strata
