#include "base/thread_pool.hpp"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <new>
#include <string>
#include <system_error>
#include <utility>

#include "base/cores.hpp"
#include "base/error.hpp"

namespace strata {

namespace {
constexpr unsigned kMaxThreads = 1024;
}

unsigned thread_pool_size() {
    const char* env = std::getenv("STRATA_THREADS");
    if (env && *env) {
        unsigned n = 0;
        const char* end = env + std::strlen(env);
        auto [p, ec] = std::from_chars(env, end, n);
        if (ec != std::errc() || p != end || n > kMaxThreads)
            throw Error(ErrorKind::kUsage,
                        "STRATA_THREADS='" + std::string(env) +
                            "': expected a number of threads from 0 to 1024 (0: no worker "
                            "threads); unset it for one per core");
        return n;
    }
    return usable_cores();
}

// One group's part of the pool's state, guarded by the pool's mutex.
struct ThreadPool::GroupState {
    TaskGroupOptions options;
    std::deque<std::function<void()>> queue;
    unsigned running = 0;
    bool in_ready = false;  // listed in ThreadPool's ready list, between these
    GroupState* ready_prev = nullptr;
    GroupState* ready_next = nullptr;
    unsigned watchers = 0;  // threads in run_until(): woken by every finished task
    std::exception_ptr error;
    std::condition_variable cv;  // a task was queued or finished

    bool can_start() const {
        return !queue.empty() && !error &&
               (options.max_parallel == 0 || running < options.max_parallel);
    }
};

ThreadPool::ThreadPool(unsigned threads) : size_(threads) {}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_)
        t.join();
}

ThreadPool& ThreadPool::shared() {
    static ThreadPool* pool = [] {
        auto* p = new ThreadPool(thread_pool_size());
        // A forked child has none of the workers: without this, work queued
        // in it would wait for threads that do not exist. The lock around
        // fork() keeps the pool's state whole; the child starts afresh.
        ::pthread_atfork([] { shared().mu_.lock(); }, [] { shared().mu_.unlock(); },
                         [] { shared().reset_in_child(); });
        return p;
    }();
    return *pool;
}

void ThreadPool::reset_in_child() {
    // A forked child of a process with threads: another thread may have held
    // a lock of the allocator at the fork (ASan's, at least, is never
    // released in the child), so nothing here allocates. The std::thread
    // objects name threads of the parent: never joined or destroyed here
    // (that would terminate), only forgotten, in storage that is never
    // destroyed (a later fork's child overwrites it, unread).
    alignas(
        std::vector<std::thread>) static unsigned char forgotten[sizeof(std::vector<std::thread>)];
    (new (forgotten) std::vector<std::thread>())->swap(threads_);
    // Groups of the parent's other threads: nobody waits for them here.
    for (GroupState* g = ready_head_; g; g = g->ready_next)
        g->in_ready = false;
    ready_head_ = ready_tail_ = nullptr;
    idle_ = 0;
    // The condition variable counts the parent's waiting workers: a signal
    // would wait for them to wake. Made anew (the old one is not destroyed).
    new (&work_cv_) std::condition_variable();
    mu_.unlock();
}

void ThreadPool::spawn_worker() {
    // Workers block every signal (a new thread inherits its creator's mask):
    // a signal sent to the process (SIGINT, SIGTERM, SIGCHLD) goes to a
    // thread that expects it, never to a pool thread started before the
    // process set up its handling.
    sigset_t all, old;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
        threads_.emplace_back([this] { worker(); });
    } catch (const std::system_error&) {
        // No thread to be had (EAGAIN): the tasks still run, on the threads
        // that wait for their groups.
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void ThreadPool::update_ready(GroupState& g) {
    const bool want = g.can_start();
    if (want && !g.in_ready) {
        g.ready_prev = ready_tail_;
        g.ready_next = nullptr;
        (ready_tail_ ? ready_tail_->ready_next : ready_head_) = &g;
        ready_tail_ = &g;
        g.in_ready = true;
    } else if (!want && g.in_ready) {
        unlist(g);
    }
    if (want) {
        if (idle_ > 0) {
            work_cv_.notify_one();
        } else if (threads_.size() < size_) {
            spawn_worker();
        }
    }
}

void ThreadPool::unlist(GroupState& g) {
    (g.ready_prev ? g.ready_prev->ready_next : ready_head_) = g.ready_next;
    (g.ready_next ? g.ready_next->ready_prev : ready_tail_) = g.ready_prev;
    g.ready_prev = g.ready_next = nullptr;
    g.in_ready = false;
}

void ThreadPool::run_task(std::unique_lock<std::mutex>& lock, GroupState& g) {
    std::function<void()> task;
    if (g.options.lifo) {
        task = std::move(g.queue.back());
        g.queue.pop_back();
    } else {
        task = std::move(g.queue.front());
        g.queue.pop_front();
    }
    ++g.running;
    update_ready(g);
    lock.unlock();
    std::exception_ptr error;
    try {
        task();
    } catch (...) {
        error = std::current_exception();
    }
    task = nullptr;  // what it captured is released outside the lock
    std::deque<std::function<void()>> dropped;
    lock.lock();
    --g.running;
    if (error && !g.error) {
        g.error = error;
        dropped.swap(g.queue);
    }
    update_ready(g);
    // Wake the group's waiters only when one can act: a task to take, the
    // group idle or failed, or a run_until() predicate that may have changed
    // (a walk's caller otherwise wakes and sleeps again at every directory).
    // Under the lock: once it is released, the group may be destroyed.
    if (g.watchers > 0 || g.running == 0 || g.error || g.can_start()) g.cv.notify_all();
    if (!dropped.empty()) {
        lock.unlock();
        dropped.clear();
        lock.lock();
    }
}

void ThreadPool::worker() {
    std::unique_lock lock(mu_);
    for (;;) {
        while (!stop_ && !ready_head_) {
            ++idle_;
            work_cv_.wait(lock);
            --idle_;
        }
        if (stop_) return;
        GroupState* g = ready_head_;
        unlist(*g);
        run_task(lock, *g);
    }
}

TaskGroup::TaskGroup(TaskGroupOptions options, ThreadPool& pool)
    : pool_(pool), state_(std::make_unique<ThreadPool::GroupState>()) {
    state_->options = options;
}

TaskGroup::~TaskGroup() {
    std::deque<std::function<void()>> dropped;
    std::unique_lock lock(pool_.mu_);
    dropped.swap(state_->queue);
    pool_.update_ready(*state_);
    state_->cv.wait(lock, [&] { return state_->running == 0; });
    lock.unlock();
}

void TaskGroup::submit(std::function<void()> task) {
    auto& g = *state_;
    std::unique_lock lock(pool_.mu_);
    if (g.options.max_queued > 0) {
        // Room first: run a queued task here, or wait for one to finish.
        while (!g.error && g.queue.size() >= g.options.max_queued) {
            if (g.can_start()) {
                pool_.run_task(lock, g);
            } else {
                g.cv.wait(lock);
            }
        }
    }
    if (g.error) {
        lock.unlock();
        return;  // dropped: wait() reports the failure
    }
    g.queue.push_back(std::move(task));
    pool_.update_ready(g);
    g.cv.notify_all();
}

void TaskGroup::rethrow_locked(std::unique_lock<std::mutex>& lock) {
    auto& g = *state_;
    g.cv.wait(lock, [&] { return g.running == 0; });
    std::exception_ptr e = std::exchange(g.error, nullptr);
    lock.unlock();
    std::rethrow_exception(e);
}

void TaskGroup::help(const std::function<bool()>& done, bool watch) {
    auto& g = *state_;
    std::unique_lock lock(pool_.mu_);
    if (watch) ++g.watchers;
    struct Unwatch {
        ThreadPool::GroupState& g;
        bool& watch;
        ~Unwatch() {
            if (watch) --g.watchers;
        }
    } unwatch{g, watch};  // destroyed before `lock`: still under the lock
    for (;;) {
        if (g.error) {
            if (watch) --g.watchers;
            watch = false;
            rethrow_locked(lock);  // releases the lock
        }
        if (done()) return;
        if (g.can_start()) {
            pool_.run_task(lock, g);
        } else {
            g.cv.wait(lock);
        }
    }
}

void TaskGroup::run_until(const std::function<bool()>& done) {
    help(done, true);
}

void TaskGroup::wait() {
    const auto& g = *state_;
    help([&] { return g.queue.empty() && g.running == 0; }, false);
}

bool TaskGroup::failed() const {
    std::lock_guard lock(pool_.mu_);
    return state_->error != nullptr;
}

}  // namespace strata
