// The parent's half of a container's isolation: what must be decided or
// created before the clone (the capability list, the compiled seccomp
// program, the cgroup and its limits) and looked at after the process ended.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sandbox/spec.hpp"

namespace strata::sandbox {

// RLIMIT_NOFILE of the container's processes: what current Docker gives a
// container (1024 soft, 524288 hard: systemd's defaults, which dockerd and
// containerd no longer raise), not whatever strata was started with.
inline constexpr long kNofileSoft = 1024;
inline constexpr long kNofileHard = 524288;

// A fork bomb must fail the step, not the host: the pids limit when none is
// given (Docker has none; BuildKit's containers inherit buildkitd's).
inline constexpr int64_t kDefaultPidsLimit = 8192;

class IsolationSetup {
  public:
    static IsolationSetup prepare(const Isolation& isolation, const std::string& description);
    IsolationSetup(IsolationSetup&&) noexcept;
    IsolationSetup& operator=(IsolationSetup&&) noexcept;
    ~IsolationSetup();

    const std::vector<std::string>& capabilities() const { return caps_; }
    // The BPF program (an array of struct sock_filter), "" for none.
    const std::string& seccomp_bpf() const { return seccomp_; }
    // Cgroup files the (single-threaded) child writes "0" to, to join its
    // cgroup (Cgroup::join_fds).
    const std::vector<int>& cgroup_join_fds() const;
    // After the process ended: what the cgroup saw (OOM kill, pids limit,
    // a warning when there was no cgroup); then the cgroup is emptied and
    // removed — or, with `defer_removal` (for when nothing of the container
    // can still run), handed to result.leftovers, which removes it when
    // released.
    void finish(Result& result, bool defer_removal = false);

  private:
    IsolationSetup() = default;
    std::vector<std::string> caps_;
    std::string seccomp_;
    struct CgroupState;
    std::unique_ptr<CgroupState> cgroup_;
};

}  // namespace strata::sandbox
