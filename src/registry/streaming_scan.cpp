#include "registry/streaming_scan.hpp"

#include <algorithm>

#include "base/error.hpp"

namespace strata::registry {

StreamingScan::StreamingScan(std::string what) : what_(std::move(what)) {
    filling_.reserve(kBlock);
    thread_ = std::thread([this] {
        try {
            result_ = store::scan_layer([this] { return next_block(); }, what_);
        } catch (...) {
            error_ = std::current_exception();
        }
        // Whatever the scan made of it, the rest of the blob is read (and
        // dropped) so that feed() never waits for a reader that stopped.
        try {
            while (!next_block().empty()) {
            }
        } catch (...) {  // aborted
        }
    });
}

StreamingScan::~StreamingScan() {
    if (!thread_.joinable()) return;
    {
        std::lock_guard lock(mu_);
        aborted_ = true;
    }
    can_read_.notify_all();
    can_write_.notify_all();
    thread_.join();
}

void StreamingScan::push_locked(std::unique_lock<std::mutex>& lock) {
    can_write_.wait(lock, [&] { return queued_.size() < kMaxQueued || aborted_; });
    queued_.push_back(std::move(filling_));
    if (!spare_.empty()) {
        filling_ = std::move(spare_.back());
        spare_.pop_back();
    } else {
        filling_ = std::string();
        filling_.reserve(kBlock);
    }
    can_read_.notify_one();
}

void StreamingScan::feed(const char* data, size_t n) {
    while (n > 0) {
        const size_t k = std::min(n, kBlock - filling_.size());
        filling_.append(data, k);
        data += k;
        n -= k;
        if (filling_.size() == kBlock) {
            std::unique_lock lock(mu_);
            push_locked(lock);
        }
    }
}

void StreamingScan::close() {
    std::unique_lock lock(mu_);
    if (closed_) return;
    if (!filling_.empty()) push_locked(lock);
    closed_ = true;
    can_read_.notify_all();
}

store::LayerScan StreamingScan::finish() {
    close();
    thread_.join();
    if (error_) std::rethrow_exception(error_);
    if (!result_) throw Error(ErrorKind::kInternal, what_ + ": the layer scan gave no result");
    return *result_;
}

std::string_view StreamingScan::next_block() {
    std::unique_lock lock(mu_);
    if (reading_.capacity() > 0) {
        reading_.clear();
        spare_.push_back(std::move(reading_));
        reading_ = std::string();
    }
    can_read_.wait(lock, [&] { return aborted_ || closed_ || !queued_.empty(); });
    if (aborted_) throw Error(ErrorKind::kInternal, what_ + ": the download stopped");
    if (queued_.empty()) return {};  // closed, all read
    reading_ = std::move(queued_.front());
    queued_.pop_front();
    can_write_.notify_one();
    return reading_;
}

}  // namespace strata::registry
