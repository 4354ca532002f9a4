// Where this process's cgroups are: which cgroup version the machine runs
// and, per hierarchy, the directory of the cgroup this process is in — the
// parent of every cgroup the sandbox makes (internal to sandbox/).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace strata::sandbox {

enum class CgroupVersion { kV1, kV2 };

struct CgroupPlace {
    // kV1 when any v1 controller hierarchy is mounted (also "hybrid" systems
    // that mount an empty cgroup2 tree beside them), kV2 when the cgroup2
    // tree is the only one or is mounted at /sys/fs/cgroup itself.
    CgroupVersion version = CgroupVersion::kV1;
    // v1 controller → directory of this process's cgroup in the hierarchy
    // holding it: "memory" → "/sys/fs/cgroup/memory/user.slice". Named
    // hierarchies ("name=systemd") are left out.
    std::map<std::string, std::string> v1;
    // Directory of this process's cgroup in the cgroup2 tree, when one is
    // mounted (also on hybrid systems); empty otherwise.
    std::string v2;
};

// From the text of /proc/self/mountinfo and /proc/self/cgroup.
// `sys_fs_cgroup_is_v2`: statfs of /sys/fs/cgroup said CGROUP2_SUPER_MAGIC.
// Nullopt when no cgroup file system holding this process is mounted.
std::optional<CgroupPlace> parse_cgroup_place(std::string_view mountinfo,
                                              std::string_view proc_self_cgroup,
                                              bool sys_fs_cgroup_is_v2);

// The same for this process; nullopt and `why` when it cannot be told.
std::optional<CgroupPlace> own_cgroup_place(std::string& why);

}  // namespace strata::sandbox
