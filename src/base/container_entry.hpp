// The first steps of a container's first process, before its init runs:
// in Sandbox's vfork child before it execs strata-init, and in a zygote's
// clone (runtime/init_zygote.cpp), which compiles this file in. One home
// for both, so that the two ways to start a container cannot drift apart.
#pragma once

#include <cstddef>

namespace strata {

// Dies with the parent thread (SIGKILL), joins the cgroups (writes "0" to
// each cgroup.procs file in `cgroup_join`), a cgroup namespace rooted there
// when `new_cgroup_ns` (as runc gives), the network namespace `netns_fd`
// when >= 0; then `fds` become descriptors 0, 1, 2, ... and every other one
// is closed. Only system calls: safe in a vfork child sharing its parent's
// memory. False when a step failed (the caller exits 124).
bool enter_container(const int* fds, int fd_count, const int* cgroup_join, int join_count,
                     int netns_fd, bool new_cgroup_ns);

}  // namespace strata
