// SIGPIPE held off one thread while it writes to a pipe whose reader may have
// exited: the write fails with EPIPE instead of killing the process. A SIGPIPE
// raised meanwhile is consumed (unless one was already pending), and the
// thread's mask is restored, so nothing is inherited by a later child.
#pragma once

#include <signal.h>

namespace strata {

class SigpipeBlock {
  public:
    SigpipeBlock();
    SigpipeBlock(const SigpipeBlock&) = delete;
    SigpipeBlock& operator=(const SigpipeBlock&) = delete;
    ~SigpipeBlock();

    // Call when a write failed with EPIPE: the SIGPIPE it raised is consumed.
    void saw_epipe() { got_epipe_ = true; }

  private:
    sigset_t pipe_{}, old_{};
    bool was_pending_ = false;
    bool got_epipe_ = false;
};

}  // namespace strata
