// TarInput — reads a layer tar in any compression (detected) with libarchive,
// passing every byte to hooks as it streams by: the diffID (sha256 of the
// uncompressed tar) is computed here, without a second read.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "store/compression.hpp"
#include "store/digest.hpp"

struct archive_entry;

namespace strata::store {

class TarInput {
  public:
    // `what` names the stream in errors ("layer sha256:…"). `raw_tee` gets the
    // bytes as read from fd, `tar_tee` the uncompressed tar bytes.
    TarInput(int fd, std::string what, ByteSink raw_tee = nullptr, ByteSink tar_tee = nullptr);
    // The same over a stream that is not a file (a download in flight).
    TarInput(ChunkReader reader, std::string what, ByteSink raw_tee = nullptr,
             ByteSink tar_tee = nullptr);
    ~TarInput();
    TarInput(const TarInput&) = delete;
    TarInput& operator=(const TarInput&) = delete;

    // The next entry's header, or nullptr at the end of the archive. A bad
    // header or truncated stream throws Error(kCorrupt) naming the entry.
    struct archive_entry* next();
    // Pathname of the current entry (raw bytes as stored).
    std::string entry_name() const;
    // Hands the current entry's data to `fn(data, size, offset)`; offsets jump
    // over holes of sparse entries.
    void read_data(const std::function<void(const void*, size_t, int64_t)>& fn);
    // Reads the rest of the stream (padding after the end-of-archive marker)
    // so that the hooks have seen every byte, and returns the diffID.
    Digest finish();
    Compression compression() const;
    // Call before next(): the diffID is not computed (finish() returns an
    // empty Digest) — for a tar this process has just written and hashed.
    void skip_digest();

  private:
    void open();

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace strata::store
