// Zygote — one `strata-init --zygote` per strata process, which starts
// RUN steps' containers by cloning itself into their namespaces
// (runtime/init_zygote.cpp; the requests: base/zygote_protocol.hpp). A
// container started so is what Sandbox's own clone and exec of strata-init
// would have made — PID 1 of the same new namespaces, in the same cgroup,
// with the same descriptors, strata's child (waited for as before) — minus
// the exec and the C runtime's start of a 9 MB static program (~0.4 ms of
// the ~3.7 ms a RUN step costs here, docs/performance.md).
//
// Lifetime: the zygote is started on first use, by a thread of its own that
// lives as long as the process. That thread is the parent of the zygote and
// (CLONE_PARENT) of every container the zygote starts: their
// PR_SET_PDEATHSIG fires when strata ends, killed or not. Unlike a
// container Sandbox clones itself, such a container does not die with the
// thread that started it — RUN steps are waited for (or killed by their
// SandboxProcess) by that thread anyway.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <vector>

#include "base/unique_fd.hpp"

namespace strata::sandbox {

class Zygote {
  public:
    // The zygote of `init` (one per path), started on first use; nullptr
    // when it could not be started or has ended (callers then clone and
    // exec strata-init themselves).
    static Zygote* of(const std::filesystem::path& init);

    struct Spawned {
        pid_t pid = -1;
        int error = 0;        // the clone's errno when pid < 0
        bool unsent = false;  // the zygote was gone before it had the request
    };
    // A new container's init in the namespaces `clone_flags` names
    // (CLONE_NEW* only), its descriptors 0, 1, 2, ... being `fds`, after it
    // joined the cgroups (`cgroup_join`: cgroup.procs files), a cgroup
    // namespace (when `new_cgroup_ns`) and `netns_fd` (when >= 0). One
    // request at a time. Throws Error when the zygote ended after it was
    // sent the request (a container may then exist: the caller's cgroup
    // cleanup kills it).
    Spawned spawn(int clone_flags, const std::vector<int>& fds, const std::vector<int>& cgroup_join,
                  int netns_fd, bool new_cgroup_ns);

    // The zygote's pid once a spawn() has asked for it, else -1 (tests).
    pid_t pid() const { return pid_; }

  private:
    Zygote() = default;
    bool start(const std::filesystem::path& init);

    std::mutex mu_;  // one request at a time
    UniqueFd socket_;
    std::future<pid_t> started_;  // taken by the first spawn()
    std::atomic<pid_t> pid_{-1};
    std::atomic<bool> ended_{false};
};

}  // namespace strata::sandbox
