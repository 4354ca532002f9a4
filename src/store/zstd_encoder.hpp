// ZstdEncoder — zstd through libzstd's streaming API, compressed by libzstd's
// own worker threads.
//
// The bytes depend on the input, the level and the libzstd version only —
// never on the number of cores, nor on how the input was cut into write()
// calls — so two machines write the same blob digest:
//   - libzstd's multithreaded mode (nbWorkers >= 1) cuts the input into jobs
//     of a fixed size and its output is the same for any nbWorkers >= 1, but
//     differs from the single-threaded mode (nbWorkers = 0; facebook/zstd
//     #2238, #3608). So there is always at least one worker, even on one core.
//   - The job size is pinned (kJobSize) instead of left to libzstd's default,
//     which follows the window size and so the level and a size hint.
//   - All input goes in with ZSTD_e_continue and the frame is ended by a
//     ZSTD_e_end call without input: the one-shot path (the first call being
//     ZSTD_e_end) used to pick its job count from nbWorkers (#2327, fixed in
//     1.4.7), and it records the content size in the header.
// libzstd is loaded on first use (zstd_library.hpp: the static libzstd.a
// has no threads). One frame, no content size (it is not known up front), no dictionary ID,
// and a content checksum (XXH64, 4 bytes): zstd's command line and the Go
// encoder containerd and BuildKit use write one by default, and every reader
// checks it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "store/compression.hpp"

struct ZSTD_CCtx_s;

namespace strata::store {

class ZstdEncoder {
  public:
    // libzstd's default at level 3 (1 << (windowLog 21 + 2)); at least
    // 512 KiB (ZSTDMT_JOBSIZE_MIN) and more than the overlap between jobs.
    static constexpr size_t kJobSize = 8u << 20;

    // `workers`: libzstd's compression threads, 0 for one per core. Always
    // at least one (see above). The sink is called from the thread that calls
    // write()/finish(), in order, one call at a time.
    explicit ZstdEncoder(ByteSink sink, int level = kZstdLevel, unsigned workers = 0);
    ~ZstdEncoder();
    ZstdEncoder(const ZstdEncoder&) = delete;
    ZstdEncoder& operator=(const ZstdEncoder&) = delete;

    void write(const void* data, size_t n);
    // Compresses the rest and ends the frame. Required for a complete stream.
    void finish();

    // One per thread of the process's pool (thread_pool_size(): one per
    // core, or STRATA_THREADS), at least one.
    static unsigned default_workers();
    // The version of the libzstd that compresses ("1.5.4"): with the level
    // and kJobSize, what the bytes depend on. Loads it (zstd_library.hpp).
    static std::string library_version();

  private:
    struct CCtxDeleter {
        void operator()(ZSTD_CCtx_s* c) const;
    };

    ByteSink sink_;
    std::unique_ptr<ZSTD_CCtx_s, CCtxDeleter> cctx_;
    std::vector<char> out_;
    bool finished_ = false;
};

}  // namespace strata::store
