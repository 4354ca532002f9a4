// Whether strata runs in a user namespace of its own (rootless: strata
// re-executed itself in one at startup, src/cli/rootless.hpp), and what that
// changes for a container: overlay needs `userxattr`, device nodes cannot be
// made, sysfs cannot be mounted for the host's network namespace, cgroups
// are not writable (docs/run.md, "Rootless").
#pragma once

#include <string>

namespace strata::sandbox {

// True when this process's user namespace is not the initial one: its
// /proc/self/uid_map is anything but the identity map of all 2^32-1 ids.
// Read once and remembered.
bool in_user_namespace();

// Why a container cannot be run in this user namespace ("" when it can):
// overlay in a user namespace needs Linux 5.11 (`userxattr`). Only
// meaningful when in_user_namespace().
std::string user_namespace_unsupported_reason();

}  // namespace strata::sandbox
