// ProcessRef — a process named by its pid AND its start time, so that a pid
// the kernel has given to another process since is never taken for it (state
// files outlive the processes they name: a container's init, its monitor).
//
// Signals and waits go through a pidfd opened after the start time was
// checked, so they reach the process that was checked, not a successor.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>

#include "base/unique_fd.hpp"

namespace strata {

// Field 22 of /proc/PID/stat (clock ticks after boot); nullopt when there is
// no such process.
std::optional<uint64_t> process_start_time(pid_t pid);

// `pid` exists, is not a zombie, and started at `start` (0: any start time).
bool process_alive(pid_t pid, uint64_t start);

class ProcessRef {
  public:
    ProcessRef() = default;
    ProcessRef(pid_t pid, uint64_t start_time) : pid_(pid), start_(start_time) {}
    // The calling process, or another by pid as it is now.
    static ProcessRef self();
    static std::optional<ProcessRef> of(pid_t pid);

    pid_t pid() const { return pid_; }
    uint64_t start_time() const { return start_; }

    // The process exists and is the one named (not a zombie).
    bool alive() const;
    // Sends `sig`; false when the process is gone (or is another now).
    bool signal(int sig) const;
    // Waits until it is gone; false on timeout. (Works for any process, not
    // only children: a pidfd becomes readable when the process ends.)
    bool wait_gone(std::optional<std::chrono::milliseconds> timeout) const;

  private:
    UniqueFd open_checked() const;  // a pidfd, or invalid when gone/reused
    pid_t pid_ = 0;
    uint64_t start_ = 0;
};

}  // namespace strata
