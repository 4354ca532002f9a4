// ThreadPool and TaskGroup — one bounded set of threads for the whole process.
//
// The gzip encoder's blocks, the context walker's directories, COPY's file
// writes and the pass-through layer writer all run as tasks of a TaskGroup on
// ThreadPool::shared(): at most thread_pool_size() threads, one per core,
// started when work first waits for one, instead of each user starting its
// own few (and two users at once starting twice as many as there are cores).
//
// No deadlock when tasks wait: a thread that waits for a group (wait(),
// run_until(), or submit() at the group's queue limit) runs that group's
// queued tasks itself instead of sleeping, and sleeps only while all of
// them are already running on some thread. So a group finishes even when
// every pool thread is busy — or when there are none (STRATA_THREADS=0, or a
// forked child). A task may create, fill and wait for a group of its own
// (groups nest); it must not wait for the group it belongs to.
//
// Errors: the first exception a task throws is kept, the group's queued
// tasks are dropped, later submit()s are dropped, and wait() (or
// run_until()) rethrows it once no task of the group is running any more —
// never while one still uses what the caller is about to unwind. After that
// the group is usable again.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace strata {

// The shared pool's number of threads: STRATA_THREADS when set (0-1024;
// 0: only waiting threads run tasks), else usable_cores() (base/cores.hpp).
// Throws Error(kUsage) for a malformed STRATA_THREADS.
unsigned thread_pool_size();

class TaskGroup;

class ThreadPool {
  public:
    // At most `threads` workers, each started when a task is queued and no
    // worker is idle.
    explicit ThreadPool(unsigned threads);
    // Joins the workers. Every TaskGroup of this pool must be gone.
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    // The process-wide pool of thread_pool_size() threads. It is never
    // destroyed (its idle workers end with the process): a forked child
    // or a late static destructor could otherwise join threads that do not
    // exist in it.
    static ThreadPool& shared();

    unsigned size() const { return size_; }

  private:
    friend class TaskGroup;
    struct GroupState;

    void worker();
    // The rest with mu_ held.
    void update_ready(GroupState& g);
    void unlist(GroupState& g);  // takes a listed group off the ready list
    void run_task(std::unique_lock<std::mutex>& lock, GroupState& g);
    void spawn_worker();
    // pthread_atfork's child handler for the shared pool (mu_ is held).
    void reset_in_child();

    const unsigned size_;
    std::mutex mu_;
    std::condition_variable work_cv_;
    // Groups with a task a worker may take, oldest first: a list through
    // the groups themselves (GroupState::ready_prev/next), so that adding,
    // removing and forgetting them in a forked child allocate nothing.
    GroupState* ready_head_ = nullptr;
    GroupState* ready_tail_ = nullptr;
    unsigned idle_ = 0;
    bool stop_ = false;
    std::vector<std::thread> threads_;
};

struct TaskGroupOptions {
    // At most this many of the group's tasks run at once, counting pool
    // workers and helping threads together; 0: no limit of its own. 1 makes
    // a strand: tasks run one at a time, in the order they were submitted.
    unsigned max_parallel = 0;
    // At most this many tasks wait in the queue: submit() beyond it runs
    // queued tasks on the calling thread (or waits for room when
    // max_parallel is reached). 0: no limit.
    size_t max_queued = 0;
    // Take the most recently submitted task first: a depth-first walk that
    // submits subdirectories keeps few directories open. Default: FIFO.
    bool lifo = false;
};

class TaskGroup {
  public:
    explicit TaskGroup(TaskGroupOptions options = {}, ThreadPool& pool = ThreadPool::shared());
    // Drops queued tasks, waits for running ones; never throws.
    ~TaskGroup();
    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;

    // Queues a task; it may run at once on another thread. May be called
    // from the group's own tasks. Dropped when the group has failed.
    void submit(std::function<void()> task);
    // Returns when no task of the group is queued or running, running
    // queued ones on the calling thread meanwhile. Rethrows the first error.
    void wait();
    // Runs queued tasks on the calling thread until done() is true, sleeping
    // while none can be taken; returns early with the first error rethrown
    // (once nothing of the group runs). done() is called with the pool's lock
    // held: it must be quick and must not use the pool. A task that makes
    // done() true must do so before it returns.
    void run_until(const std::function<bool()>& done);
    // Whether a task failed and its error has not been rethrown yet.
    bool failed() const;

  private:
    void help(const std::function<bool()>& done, bool watch);
    void rethrow_locked(std::unique_lock<std::mutex>& lock);

    ThreadPool& pool_;
    std::unique_ptr<ThreadPool::GroupState> state_;
};

}  // namespace strata
