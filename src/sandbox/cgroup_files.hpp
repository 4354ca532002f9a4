// Reading and writing cgroup control files (internal to sandbox/'s cgroup code).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::sandbox::cgroup_files {

// Writes `value` with one write(2), as cgroup files want one value per
// write. Returns 0, or the errno of the open or the write.
int write_value(const std::string& path, std::string_view value);

// Writes each of `values` with a write(2) of its own to one open file (a
// devices.allow takes one rule per write). Returns 0, or the errno of the
// open or of the first write that failed, with its index in `failed`.
int write_values(const std::string& path, const std::vector<std::string>& values, size_t& failed);

// The whole file; nullopt when it cannot be read (missing, no permission).
std::optional<std::string> read_value(const std::string& path);

// The number after `key` in a flat keyed file ("oom_kill 3\n", "max 12\n");
// 0 when the key is not there.
int64_t keyed_value(std::string_view text, std::string_view key);

// The processes listed in `dir`/cgroup.procs (those outside this pid
// namespace, listed as 0, are left out).
std::vector<pid_t> read_procs(const std::string& dir);

bool exists(const std::string& path);

}  // namespace strata::sandbox::cgroup_files
