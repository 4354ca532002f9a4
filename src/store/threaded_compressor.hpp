// ThreadedCompressor — a Compressor on a worker thread, so that producing the
// bytes (walking the tree, reading files, building tar headers, hashing the
// tar) and compressing them run on two cores, like `tar | gzip` does.
//
// write() copies into 1 MiB chunks handed over through a small bounded queue;
// the worker feeds them to a Compressor whose sink it calls (never two calls
// at once, always from the worker). Output is byte-identical to a plain
// Compressor's: only the scheduling differs. gzip goes to a GzipEncoder with
// a deflating thread per core instead (its sink is called from the thread
// that calls write()/finish(), still one call at a time).
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/compression.hpp"
#include "store/gzip_encoder.hpp"

namespace strata::store {

class ThreadedCompressor {
  public:
    ThreadedCompressor(Compression c, ByteSink sink);
    // Without finish(): the worker is stopped and the output is incomplete.
    ~ThreadedCompressor();
    ThreadedCompressor(const ThreadedCompressor&) = delete;
    ThreadedCompressor& operator=(const ThreadedCompressor&) = delete;

    // Errors from the worker (compressor or sink) are rethrown here or by finish().
    void write(const void* data, size_t n);
    // Hands over the rest, waits until everything went through the sink.
    void finish();

  private:
    static constexpr size_t kChunk = 1 << 20;
    static constexpr size_t kDepth = 8;

    void hand_over();
    void run();
    void rethrow_if_failed();

    Compression compression_;
    ByteSink sink_;
    std::unique_ptr<GzipEncoder> gzip_;
    std::string current_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::string> queue_;
    std::vector<std::string>
        spare_;            // drained chunks, reused: no 1 MiB malloc/page faults per chunk
    bool closed_ = false;  // no more chunks will come
    bool done_ = false;    // worker finished (or failed)
    bool stop_ = false;    // abandon: destructor without finish()
    std::exception_ptr error_;
    std::thread worker_;
};

}  // namespace strata::store
