#include "executor/copy/write_pool.hpp"

namespace strata::executor {

namespace {
constexpr size_t kMaxQueued = 512;
}

unsigned WritePool::default_threads() {
    return ThreadPool::shared().size();
}

WritePool::WritePool(unsigned threads) {
    if (threads > 0)
        group_ = std::make_unique<TaskGroup>(
            TaskGroupOptions{.max_parallel = threads, .max_queued = kMaxQueued});
}

WritePool::~WritePool() = default;

void WritePool::submit(std::function<void()> task) {
    if (!group_) {
        task();
        return;
    }
    // Stop at the first error instead of queueing work that would be dropped.
    if (group_->failed()) group_->wait();
    group_->submit(std::move(task));
}

void WritePool::drain() {
    if (group_) group_->wait();
}

}  // namespace strata::executor
