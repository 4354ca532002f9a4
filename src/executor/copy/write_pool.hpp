// WritePool — the file writes of one COPY/ADD on a few threads.
//
// Creating a file in the layer (create, copy the content, owner, mode,
// xattrs, times, close) is independent of every other file once the walk
// has decided where it goes, and nearly all of it is time in the kernel; a
// 10,000-file COPY spends most of its time there on one core while the
// other one idles. The walk stays on the calling thread (it decides names,
// clears what is in the way, makes directories); plain files are handed
// here. drain() is called before anything looks at the layer again.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace strata::executor {

class WritePool {
  public:
    // `threads` workers; 0 runs every task on the caller's thread.
    explicit WritePool(unsigned threads);
    ~WritePool();
    WritePool(const WritePool&) = delete;
    WritePool& operator=(const WritePool&) = delete;

    // Queues a task (blocks while many are waiting). Rethrows the first
    // error a task threw, if any.
    void submit(std::function<void()> task);
    // Waits until every queued task has run; rethrows the first error.
    void drain();

    // A pool size for this machine: one worker per core, at most 4.
    static unsigned default_threads();

  private:
    void work();
    void rethrow_locked(std::unique_lock<std::mutex>& lock);

    std::mutex mu_;
    std::condition_variable has_work_, has_room_, idle_;
    std::deque<std::function<void()>> queue_;
    size_t running_ = 0;
    bool stop_ = false;
    std::exception_ptr error_;
    std::vector<std::thread> workers_;
};

}  // namespace strata::executor
