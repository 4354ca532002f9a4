#include "executor/copy/write_pool.hpp"

#include <algorithm>

namespace strata::executor {

namespace {
constexpr size_t kMaxQueued = 512;
}

unsigned WritePool::default_threads() {
    return std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
}

WritePool::WritePool(unsigned threads) {
    for (unsigned i = 0; i < threads; ++i)
        workers_.emplace_back([this] { work(); });
}

WritePool::~WritePool() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
        queue_.clear();
    }
    has_work_.notify_all();
    has_room_.notify_all();
    for (auto& t : workers_)
        t.join();
}

void WritePool::rethrow_locked(std::unique_lock<std::mutex>&) {
    if (error_) {
        std::exception_ptr e = error_;
        error_ = nullptr;
        queue_.clear();
        std::rethrow_exception(e);
    }
}

void WritePool::submit(std::function<void()> task) {
    if (workers_.empty()) {
        task();
        return;
    }
    std::unique_lock lock(mu_);
    has_room_.wait(lock, [&] { return queue_.size() < kMaxQueued || error_ || stop_; });
    rethrow_locked(lock);
    queue_.push_back(std::move(task));
    lock.unlock();
    has_work_.notify_one();
}

void WritePool::drain() {
    if (workers_.empty()) return;
    std::unique_lock lock(mu_);
    idle_.wait(lock, [&] { return (queue_.empty() && running_ == 0) || error_; });
    // After an error, let the running tasks finish before reporting it.
    idle_.wait(lock, [&] { return running_ == 0; });
    rethrow_locked(lock);
}

void WritePool::work() {
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock lock(mu_);
            has_work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
            if (stop_) return;
            task = std::move(queue_.front());
            queue_.pop_front();
            ++running_;
        }
        has_room_.notify_one();
        std::exception_ptr failure;
        try {
            task();
        } catch (...) {
            failure = std::current_exception();
        }
        {
            std::lock_guard lock(mu_);
            --running_;
            if (failure && !error_) {
                error_ = failure;
                queue_.clear();
            }
        }
        idle_.notify_all();
        has_room_.notify_all();
    }
}

}  // namespace strata::executor
