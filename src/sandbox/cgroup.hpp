// The cgroup of one container: a child of strata's own cgroup, made for a
// RUN step (or a `strata run`) and removed after it, that holds the
// container's processes and enforces its limits — pids, memory, CPU and
// runc's default device allow-list — on cgroup v1 and v2.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.hpp"
#include "sandbox/cgroup_place.hpp"

namespace strata::sandbox {

struct CgroupLimits {
    std::optional<int64_t> memory_bytes;  // --memory; swap is not allowed on top of it
    std::optional<double> cpus;           // --cpus (CFS quota = cpus * 100 ms per 100 ms period)
    std::optional<int64_t> pids;          // --pids-limit; the sandbox passes a default when unset
    bool devices = true;                  // runc's default device allow-list
    bool operator==(const CgroupLimits&) const = default;
};

class Cgroup {
  public:
    // A new cgroup under strata's own (from /proc/self/cgroup) in every
    // hierarchy the limits need, plus freezer (v1) to kill with. Its
    // directory is "strata-<pid>-<start time>-<name>", so that
    // remove_stale_cgroups can tell when its maker is gone.
    // Returns nullopt and sets `why` (one sentence: what could not be
    // written and what that means) when cgroups cannot be used here (no
    // write access, rootless without delegation, a controller that is not
    // there); the caller then warns once and runs without limits.
    // Throws Error(kUsage) for a bad limit and Error for a bad `name` or a
    // cgroup of that name that exists already.
    static std::optional<Cgroup> create(const std::string& name, const CgroupLimits& limits,
                                        std::string& why);
    // The same under a given place instead of this process's own (tests;
    // a caller that picked the parent cgroup itself).
    static std::optional<Cgroup> create_in(const CgroupPlace& place, const std::string& name,
                                           const CgroupLimits& limits, std::string& why);

    Cgroup(Cgroup&& other) noexcept;
    Cgroup& operator=(Cgroup&& other) noexcept;
    Cgroup(const Cgroup&) = delete;
    Cgroup& operator=(const Cgroup&) = delete;
    // Kills whatever is still inside and removes the directories.
    ~Cgroup();

    // Descriptors of the files to join by (O_WRONLY|O_CLOEXEC): `tasks` on
    // v1, `cgroup.procs` on v2. The child writes "0" to each between
    // clone() and exec — write(2) only — so that it and everything it
    // starts are inside. On v1 that moves only the writing thread (without
    // the global lock whose RCU grace period made a RUN step wait): the
    // writer must be single-threaded, as a fresh child of clone() is.
    const std::vector<int>& join_fds() const { return join_fd_numbers_; }
    // Same, done from outside for `pid`. Throws Error.
    void add(pid_t pid) const;

    // The memory limit killed something (v2 memory.events oom_kill; v1
    // memory.oom_control oom_kill, or failcnt on kernels before 4.13).
    bool oom_killed() const;
    // A fork failed on the pids limit (pids.events max).
    bool pids_limit_hit() const;

    CgroupVersion version() const { return version_; }
    // The directories, one per hierarchy (one on v2).
    const std::vector<std::string>& dirs() const { return dirs_; }
    // The directory in the hierarchy of `controller` ("memory", "pids",
    // "cpu", "devices", "freezer"); on v2 the one directory. Empty when
    // this cgroup has none there.
    std::string dir_of(std::string_view controller) const;

  private:
    friend class CgroupBuilder;
    Cgroup() = default;
    void release() noexcept;

    CgroupVersion version_ = CgroupVersion::kV1;
    std::vector<std::string> dirs_;
    std::vector<std::pair<std::string, std::string>> controller_dirs_;  // controller → dir
    std::vector<UniqueFd> join_fds_;
    std::vector<int> join_fd_numbers_;
};

// Kills and removes leftover cgroups of strata processes that no longer run
// (a build that was killed): those under strata's own cgroup whose name
// carries a pid that is gone or now belongs to a process started at
// another time. Errors are ignored: this is housekeeping.
void remove_stale_cgroups();
// remove_stale_cgroups(), by the first caller in this process; the others
// (also one that comes while it runs) return at once: what the sweep removes
// never touches this process's cgroups, so nothing needs to wait for it.
void remove_stale_cgroups_once();
// True for the first caller in this process (of this or of
// remove_stale_cgroups_once), which then owes the sweep: so that a sweep
// handed to another thread is claimed before it is queued, and nobody else
// runs it on their own path meanwhile.
bool claim_stale_cgroups_sweep();
// The same under a given place.
void remove_stale_cgroups_in(const CgroupPlace& place);

// "strata-<pid>-<start time>-" for this process: the prefix of the names
// of its cgroups.
std::string own_cgroup_prefix();

}  // namespace strata::sandbox
