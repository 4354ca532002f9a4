#include "store/threaded_compressor.hpp"

#include <algorithm>

#include "base/error.hpp"

namespace strata::store {

ThreadedCompressor::ThreadedCompressor(Compression c, ByteSink sink)
    : compression_(c), sink_(std::move(sink)) {
    if (c == Compression::kGzip) {
        const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
        gzip_ = std::make_unique<GzipEncoder>(sink_, threads);
        return;
    }
    current_.reserve(kChunk);
    worker_ = std::thread([this] { run(); });
}

ThreadedCompressor::~ThreadedCompressor() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
        closed_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
}

void ThreadedCompressor::rethrow_if_failed() {
    if (error_) std::rethrow_exception(error_);
}

void ThreadedCompressor::write(const void* data, size_t n) {
    if (gzip_) return gzip_->write(data, n);
    auto* p = static_cast<const char*>(data);
    while (n > 0) {
        size_t k = std::min(n, kChunk - current_.size());
        current_.append(p, k);
        p += k;
        n -= k;
        if (current_.size() == kChunk) hand_over();
    }
}

void ThreadedCompressor::hand_over() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return queue_.size() < kDepth || done_; });
    if (done_) {
        rethrow_if_failed();
        throw Error(ErrorKind::kInternal, "compressor worker stopped early");
    }
    queue_.push_back(std::move(current_));
    if (!spare_.empty()) {
        current_ = std::move(spare_.back());
        spare_.pop_back();
        current_.clear();
    } else {
        current_ = std::string();
        current_.reserve(kChunk);
    }
    lock.unlock();
    cv_.notify_all();
}

void ThreadedCompressor::finish() {
    if (gzip_) return gzip_->finish();
    if (!current_.empty()) hand_over();
    {
        std::unique_lock lock(mu_);
        closed_ = true;
        cv_.notify_all();
        cv_.wait(lock, [this] { return done_; });
        rethrow_if_failed();
    }
    worker_.join();
}

void ThreadedCompressor::run() {
    try {
        Compressor compressor(compression_, sink_);
        for (;;) {
            std::string chunk;
            {
                std::unique_lock lock(mu_);
                cv_.wait(lock, [this] { return !queue_.empty() || closed_; });
                if (stop_) break;
                if (queue_.empty()) break;  // closed and drained
                chunk = std::move(queue_.front());
                queue_.pop_front();
            }
            cv_.notify_all();
            compressor.write(chunk.data(), chunk.size());
            std::lock_guard lock(mu_);
            spare_.push_back(std::move(chunk));
        }
        bool finished_normally;
        {
            std::lock_guard lock(mu_);
            finished_normally = !stop_;
        }
        if (finished_normally) compressor.finish();
    } catch (...) {
        std::lock_guard lock(mu_);
        error_ = std::current_exception();
    }
    {
        std::lock_guard lock(mu_);
        done_ = true;
    }
    cv_.notify_all();
}

}  // namespace strata::store
