// StreamingScan — pull's diffID check run while the layer downloads.
//
// store::scan_layer (inflate, tar headers, the escape checks, sha256 of the
// tar) runs on a thread of its own, reading the blob's bytes as the download
// hands them over through feed(): the CPU work of the check overlaps the
// transfer, the compressed hash and the disk write instead of following
// them, and a pull's layers keep both cores busy.
//
// The bytes it reads are not yet verified (the blob's digest is known only
// at the end): the scan's result is used only once the download passed its
// digest check, and a failed scan keeps consuming (and dropping) the rest,
// so a registry that sent other bytes is reported as that — a digest
// mismatch — rather than as whatever the wrong bytes look like.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/image_store_scan.hpp"

namespace strata::registry {

class StreamingScan {
  public:
    // `what` names the layer in errors ("busybox: layer sha256:…").
    explicit StreamingScan(std::string what);
    // Without finish(): the scan is told to stop and joined.
    ~StreamingScan();
    StreamingScan(const StreamingScan&) = delete;
    StreamingScan& operator=(const StreamingScan&) = delete;

    // The next bytes of the blob; waits while a few MiB are queued.
    void feed(const char* data, size_t n);
    // No more bytes: the scan finishes the rest on its own thread.
    void close();
    // close(), waits for the scan and returns it, or throws its error.
    store::LayerScan finish();

  private:
    static constexpr size_t kBlock = 256 * 1024;
    static constexpr size_t kMaxQueued = 16;  // blocks: 4 MiB per layer

    std::string_view next_block();  // the scan thread's ChunkReader
    void push_locked(std::unique_lock<std::mutex>& lock);

    std::string what_;
    std::mutex mu_;
    std::condition_variable can_read_, can_write_;
    std::deque<std::string> queued_;
    std::vector<std::string> spare_;
    std::string filling_;  // the producer's block, not yet queued
    std::string reading_;  // the block the scan reads now
    bool closed_ = false;
    bool aborted_ = false;
    std::optional<store::LayerScan> result_;
    std::exception_ptr error_;
    std::thread thread_;
};

}  // namespace strata::registry
