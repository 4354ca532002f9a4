#include "store/gzip_encoder.hpp"

#include <zlib.h>

#include <algorithm>
#include <memory>

#include "base/error.hpp"

namespace strata::store {

namespace {

// At most this many blocks per thread wait to be written: bounds memory.
constexpr size_t kInFlightPerThread = 4;

void put_le32(std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

GzipEncoder::GzipEncoder(ByteSink sink, unsigned threads, int level)
    : sink_(std::move(sink)),
      level_(level),
      max_in_flight_(kInFlightPerThread * std::max(1u, threads)) {
    pending_.reserve(kBlock);
    if (threads > 0)
        tasks_ = std::make_unique<TaskGroup>(TaskGroupOptions{.max_parallel = threads});
}

GzipEncoder::~GzipEncoder() = default;

void GzipEncoder::deflate_block(Job& job, int level) {
    z_stream z{};
    // Raw deflate (-15): the gzip framing is written around the blocks.
    if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw Error(ErrorKind::kInternal, "deflateInit2 failed");
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, deflateEnd);
    if (!job.dictionary.empty() &&
        deflateSetDictionary(&z, reinterpret_cast<const Bytef*>(job.dictionary.data()),
                             static_cast<uInt>(job.dictionary.size())) != Z_OK)
        throw Error(ErrorKind::kInternal, "deflateSetDictionary failed");
    job.output.resize(deflateBound(&z, job.input.size()) + 16);
    z.next_in = reinterpret_cast<Bytef*>(job.input.data());
    z.avail_in = static_cast<uInt>(job.input.size());
    z.next_out = reinterpret_cast<Bytef*>(job.output.data());
    z.avail_out = static_cast<uInt>(job.output.size());
    const int r = deflate(&z, job.last ? Z_FINISH : Z_SYNC_FLUSH);
    if ((job.last && r != Z_STREAM_END) || (!job.last && r != Z_OK) || z.avail_in != 0)
        throw Error(ErrorKind::kInternal, "deflate failed");
    job.output.resize(job.output.size() - z.avail_out);
    job.crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(job.input.data()),
                                          static_cast<uInt>(job.input.size())));
    job.done.store(true, std::memory_order_release);
}

void GzipEncoder::submit(bool last) {
    auto job = std::make_unique<Job>();
    job->index = next_index_++;
    job->input = std::move(pending_);
    job->dictionary = previous_;
    job->last = last;
    // The dictionary of the next block: this block's last 32 KiB.
    const std::string& in = job->input;
    if (in.size() >= kWindow) {
        previous_.assign(in, in.size() - kWindow, kWindow);
    } else {
        previous_ += in;
        if (previous_.size() > kWindow) previous_.erase(0, previous_.size() - kWindow);
    }
    size_ += in.size();
    pending_.clear();
    pending_.reserve(kBlock);

    Job* raw = job.get();
    in_flight_.emplace(raw->index, std::move(job));
    if (tasks_) {
        tasks_->submit([raw, level = level_] { deflate_block(*raw, level); });
    } else {
        deflate_block(*raw, level_);
    }
    emit_ready(false);
}

// Writes finished blocks in order. Waits (deflating queued blocks on this
// thread meanwhile) when too many are in flight, or with `wait_all` until all
// are written.
void GzipEncoder::emit_ready(bool wait_all) {
    for (;;) {
        auto it = in_flight_.find(next_emit_);
        if (it == in_flight_.end()) return;
        Job& job = *it->second;
        if (!job.done.load(std::memory_order_acquire)) {
            if (!wait_all && in_flight_.size() <= max_in_flight_) return;
            // Rethrows a block's error: its Job is never done.
            tasks_->run_until([&job] { return job.done.load(std::memory_order_acquire); });
        }
        if (!header_written_) {
            // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown): the
            // header says nothing about when or where it was written.
            static const char header[10] = {'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, 0, '\xff'};
            sink_(header, sizeof header);
            header_written_ = true;
        }
        crc_ = static_cast<uint32_t>(
            crc32_combine(crc_, job.crc, static_cast<z_off_t>(job.input.size())));
        if (!job.output.empty()) sink_(job.output.data(), job.output.size());
        if (job.last) {
            std::string trailer;
            put_le32(trailer, crc_);
            put_le32(trailer, static_cast<uint32_t>(size_ & 0xffffffffu));
            sink_(trailer.data(), trailer.size());
        }
        in_flight_.erase(it);
        ++next_emit_;
    }
}

void GzipEncoder::write(const void* data, size_t n) {
    if (finished_) throw Error(ErrorKind::kInternal, "write to a finished gzip encoder");
    auto* p = static_cast<const char*>(data);
    while (n > 0) {
        const size_t k = std::min(n, kBlock - pending_.size());
        pending_.append(p, k);
        p += k;
        n -= k;
        if (pending_.size() == kBlock) submit(false);
    }
}

void GzipEncoder::finish() {
    if (finished_) return;
    finished_ = true;
    submit(true);  // the last block, possibly empty: it ends the deflate stream
    emit_ready(true);
}

}  // namespace strata::store
