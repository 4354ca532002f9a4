// Names that say which process made a thing that may outlive it — a cgroup,
// a scratch directory on /dev/shm: "<prefix><pid>-<start time>-<rest>", the
// pid and start time (/proc/<pid>/stat field 22) of its maker, so that a
// later process can tell the leftover of one that is gone (killed) from the
// thing of one that still runs.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "base/temp_dir.hpp"

namespace strata {

struct OwnerName {
    pid_t pid = 0;
    uint64_t start_time = 0;
};

// "<prefix><pid>-<start time>-" of the calling process (a forked child gets
// its own).
std::string own_name_prefix(std::string_view prefix);

// The maker named in `name`; nullopt when the name is not "<prefix><pid>-<start>-...".
std::optional<OwnerName> parse_owner_name(std::string_view name, std::string_view prefix);

// Whether the process that made it no longer runs (its pid is gone, a
// zombie, or another process's now: base/process_ref.hpp's process_alive).
bool owner_gone(const OwnerName& owner);

// Removes, in `parent` (a directory others may write to, such as /dev/shm),
// the directories named "<prefix><pid>-<start>-..." whose maker is gone —
// only real, private (no group or other access) directories owned by this
// process's effective user, so nothing another user made is touched. Errors are
// ignored (a leftover stays for the next sweep). Returns how many went.
size_t remove_dirs_of_gone_owners(const std::filesystem::path& parent, std::string_view prefix);

// A temp directory in `parent` (a shared one: /tmp, /dev/shm) that a killed
// strata cannot leave there for good: "<prefix><pid>-<start>-XXXXXX" (mkdtemp,
// 0700), made after removing the ones in `parent` whose maker is gone.
TempDir owned_temp_dir(const std::filesystem::path& parent, std::string_view prefix);

}  // namespace strata
