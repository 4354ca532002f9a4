// GzipEncoder — gzip that several cores can write at once (pigz's scheme),
// with zlib doing the deflating.
//
// The input is cut into fixed 256 KiB blocks. Each block is deflated (raw,
// level kGzipLevel) with the 32 KiB of input before it as the dictionary and
// ends with a sync flush; the last one ends the stream. The blocks join into
// one ordinary deflate stream inside one gzip member: a header without file
// name or mtime, and the CRC-32 and size trailer. Every gzip reader reads it.
//
// The bytes depend only on the input — never on the number of threads, nor
// on how the input was cut into write() calls — so layers stay reproducible.
// On the reference machine zlib deflates 15-40 MB/s on one core; a layer
// export is bound by it, and this roughly doubles it on two cores. The
// blocks are tasks on the process's ThreadPool (base/thread_pool.hpp); the
// caller deflates queued blocks itself while it waits for the next one.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/thread_pool.hpp"
#include "store/compression.hpp"

namespace strata::store {

class GzipEncoder {
  public:
    static constexpr size_t kBlock = 256 * 1024;
    static constexpr size_t kWindow = 32 * 1024;

    // Up to `threads` blocks deflate at once on the shared pool's threads
    // and the caller's (0: on the caller's thread only). The sink is called
    // from the thread that calls write()/finish(), in order, one call at a
    // time. `level`: zlib's 1-9; strata's layers use kGzipLevel.
    GzipEncoder(ByteSink sink, unsigned threads, int level = kGzipLevel);
    ~GzipEncoder();
    GzipEncoder(const GzipEncoder&) = delete;
    GzipEncoder& operator=(const GzipEncoder&) = delete;

    void write(const void* data, size_t n);
    // Deflates the rest, writes the trailer. Required for a complete stream.
    void finish();

  private:
    struct Job {
        uint64_t index = 0;
        std::string input;
        std::string dictionary;
        bool last = false;
        // Results, filled by whichever thread deflates it.
        std::string output;
        uint32_t crc = 0;
        std::atomic<bool> done{false};
    };

    void submit(bool last);
    void emit_ready(bool wait_all);
    static void deflate_block(Job& job, int level);

    ByteSink sink_;
    const int level_;
    std::string pending_;   // input not yet cut into a block
    std::string previous_;  // the last kWindow bytes of the previous block
    uint64_t next_index_ = 0;
    uint64_t next_emit_ = 0;
    uint32_t crc_ = 0;
    uint64_t size_ = 0;
    bool header_written_ = false;
    bool finished_ = false;
    size_t max_in_flight_ = 0;
    // Blocks submitted and not yet written; only the caller's thread changes
    // the map, a task only its Job's results.
    std::map<uint64_t, std::unique_ptr<Job>> in_flight_;
    std::unique_ptr<TaskGroup> tasks_;  // last: destroyed (tasks ended) before the jobs
};

}  // namespace strata::store
