// ThreadedCompressor — a Compressor whose work runs beside the caller, so
// that producing the bytes (walking the tree, reading files, building tar
// headers, hashing the tar) and compressing them use several cores, like
// `tar | gzip` does.
//
// gzip goes to a GzipEncoder whose blocks deflate on the process's thread
// pool (base/thread_pool.hpp); zstd to a ZstdEncoder, compressed by libzstd's
// worker threads; uncompressed bytes are handed to the sink in 1 MiB chunks
// by a strand of pool tasks (one at a time, in order), bounded to a few
// chunks in flight. Output is byte-identical to a plain Compressor's: only
// the scheduling differs. The sink is never called twice at once.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/thread_pool.hpp"
#include "store/compression.hpp"
#include "store/gzip_encoder.hpp"
#include "store/zstd_encoder.hpp"

namespace strata::store {

class ThreadedCompressor {
  public:
    ThreadedCompressor(Compression c, ByteSink sink);
    // Without finish(): queued work is dropped and the output is incomplete.
    ~ThreadedCompressor();
    ThreadedCompressor(const ThreadedCompressor&) = delete;
    ThreadedCompressor& operator=(const ThreadedCompressor&) = delete;

    // Errors from the compressor or the sink are rethrown here or by finish().
    void write(const void* data, size_t n);
    // Hands over the rest, waits until everything went through the sink.
    void finish();

  private:
    static constexpr size_t kChunk = 1 << 20;
    static constexpr size_t kDepth = 8;

    void hand_over();

    ByteSink sink_;
    std::unique_ptr<GzipEncoder> gzip_;
    std::unique_ptr<ZstdEncoder> zstd_;
    std::string current_;
    std::mutex spare_mu_;
    // Chunks the sink is done with, reused: no 1 MiB malloc and page faults
    // per chunk.
    std::vector<std::string> spare_;
    std::unique_ptr<TaskGroup> strand_;  // last: its tasks use the members above
};

}  // namespace strata::store
