// Ending a cgroup: kill whatever runs in it, then remove its directories
// (internal to sandbox/; used by ~Cgroup and remove_stale_cgroups).
#pragma once

#include <string>
#include <vector>

#include "sandbox/cgroup_place.hpp"

namespace strata::sandbox {

struct CgroupDirs {
    CgroupVersion version = CgroupVersion::kV1;
    std::vector<std::string> dirs;  // one per hierarchy (one in all on v2)
    std::string freezer;            // v1: the one among `dirs` in the freezer hierarchy, if any
};

// Kills every process in the cgroup — v2: cgroup.kill, or freeze + SIGKILL
// on kernels before 5.14; v1: freeze, SIGKILL each listed process, thaw,
// until no hierarchy lists one (without a freezer the SIGKILL loop alone)
// — and removes the directories. Gives up after a few seconds (a process in
// uninterruptible sleep) and returns false when a directory is left.
bool kill_and_remove(const CgroupDirs& cgroup) noexcept;

}  // namespace strata::sandbox
