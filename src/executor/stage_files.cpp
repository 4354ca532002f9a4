#include "executor/stage_files.hpp"

namespace strata::executor {

void StageFiles::publish(std::vector<std::filesystem::path> dirs) {
    {
        std::lock_guard lock(mu_);
        if (state_ != State::kRunning) return;
        dirs_ = std::move(dirs);
        state_ = State::kPublished;
    }
    cv_.notify_all();
}

bool StageFiles::unread() const {
    std::lock_guard lock(mu_);
    return leases_ == 0 && waiting_ == 0;
}

void StageFiles::close_when_unread() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return leases_ == 0 && waiting_ == 0; });
    state_ = State::kClosed;
    dirs_.clear();
}

void StageFiles::close() {
    {
        std::lock_guard lock(mu_);
        if (state_ == State::kClosed) return;
        state_ = State::kClosed;
        dirs_.clear();
    }
    cv_.notify_all();
}

bool StageFiles::settled() const {
    std::lock_guard lock(mu_);
    return state_ != State::kRunning;
}

std::optional<LeasedDirs> StageFiles::lease() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.wait(lock, [&] { return state_ != State::kRunning; });
    --waiting_;
    if (state_ == State::kClosed) {
        lock.unlock();
        cv_.notify_all();  // close_when_unread() may wait for this reader
        return std::nullopt;
    }
    ++leases_;
    // Released by the last copy of the lease: the stage may then move the
    // directories (close_when_unread).
    std::shared_ptr<void> lease(static_cast<void*>(this), [this](void*) {
        {
            std::lock_guard l(mu_);
            --leases_;
        }
        cv_.notify_all();
    });
    return LeasedDirs{dirs_, std::move(lease)};
}

}  // namespace strata::executor
