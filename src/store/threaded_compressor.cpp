#include "store/threaded_compressor.hpp"

#include <algorithm>

namespace strata::store {

ThreadedCompressor::ThreadedCompressor(Compression c, ByteSink sink) : sink_(std::move(sink)) {
    switch (c) {
        case Compression::kGzip:
            gzip_ = std::make_unique<GzipEncoder>(sink_, ThreadPool::shared().size());
            return;
        case Compression::kZstd:
            zstd_ = std::make_unique<ZstdEncoder>(sink_);
            return;
        case Compression::kNone:
            break;
    }
    current_.reserve(kChunk);
    strand_ =
        std::make_unique<TaskGroup>(TaskGroupOptions{.max_parallel = 1, .max_queued = kDepth});
}

ThreadedCompressor::~ThreadedCompressor() = default;

void ThreadedCompressor::write(const void* data, size_t n) {
    if (gzip_) return gzip_->write(data, n);
    if (zstd_) return zstd_->write(data, n);
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
    if (strand_->failed()) strand_->wait();  // rethrows the sink's error
    strand_->submit([this, chunk = std::move(current_)]() mutable {
        sink_(chunk.data(), chunk.size());
        chunk.clear();
        std::lock_guard lock(spare_mu_);
        spare_.push_back(std::move(chunk));
    });
    std::lock_guard lock(spare_mu_);
    if (!spare_.empty()) {
        current_ = std::move(spare_.back());
        spare_.pop_back();
    } else {
        current_ = std::string();
        current_.reserve(kChunk);
    }
}

void ThreadedCompressor::finish() {
    if (gzip_) return gzip_->finish();
    if (zstd_) return zstd_->finish();
    if (!current_.empty()) hand_over();
    strand_->wait();
}

}  // namespace strata::store
