// WritePool — the file writes of one COPY/ADD on a few threads.
//
// Creating a file in the layer (create, copy the content, owner, mode,
// xattrs, times, close) is independent of every other file once the walk
// has decided where it goes, and nearly all of it is time in the kernel; a
// 10,000-file COPY spends most of its time there on one core while the
// other one idles. The walk stays on the calling thread (it decides names,
// clears what is in the way, makes directories); plain files are handed
// here. drain() is called before anything looks at the layer again.
//
// The writes are tasks of a TaskGroup on the process's thread pool
// (base/thread_pool.hpp), not threads of their own.
#pragma once

#include <functional>
#include <memory>

#include "base/thread_pool.hpp"

namespace strata::executor {

class WritePool {
  public:
    // Up to `threads` writes at once on the shared pool (the caller's thread
    // included when the queue is full); 0 runs every task on the caller's
    // thread.
    explicit WritePool(unsigned threads);
    // Drops queued tasks, waits for running ones.
    ~WritePool();
    WritePool(const WritePool&) = delete;
    WritePool& operator=(const WritePool&) = delete;

    // Queues a task (runs queued ones itself while many are waiting).
    // Rethrows the first error a task threw, if any.
    void submit(std::function<void()> task);
    // Waits until every queued task has run; rethrows the first error.
    void drain();

    // A pool size for this machine: the shared pool's (one per core).
    static unsigned default_threads();

  private:
    std::unique_ptr<TaskGroup> group_;  // null: inline
};

}  // namespace strata::executor
