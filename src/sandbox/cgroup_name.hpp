// Names of the sandbox's cgroups: "strata-<pid>-<start time>-<name>", the
// pid and start time (/proc/<pid>/stat field 22) of the strata process that
// made it, so that a later run can tell a leftover (internal to sandbox/).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/owner_name.hpp"
#include "base/process_ref.hpp"

namespace strata::sandbox {

using strata::process_start_time;  // base/process_ref.hpp

using CgroupOwner = strata::OwnerName;  // base/owner_name.hpp
using strata::owner_gone;

// The maker named in a cgroup directory name; nullopt when the name is not one of ours.
std::optional<CgroupOwner> parse_cgroup_owner(std::string_view dir_name);

}  // namespace strata::sandbox
