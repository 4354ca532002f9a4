// TarInput — reads a layer tar in any compression (detected) with libarchive,
// passing every byte to hooks as it streams by: the diffID (sha256 of the
// uncompressed tar) is computed here, without a second read.
//
// The one way strata reads a possibly compressed tar: layers (pull, unpack,
// import, load), `strata diff`'s layers and ADD's local archives. gzip and
// zstd are undone by Decompressor (gzip through GzipDecoder: ISA-L or zlib);
// what libarchive may undo besides is the caller's choice (TarFilters).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "store/compression.hpp"
#include "store/digest.hpp"

struct archive_entry;

namespace strata::store {

// Compressions that libarchive may undo after Decompressor's gzip or zstd:
// - kNone: none (layers: OCI and Docker know only gzip and zstd);
// - kDocker: bzip2 and xz too, as Docker's DecompressStream (ADD's archives);
// - kAll: every filter libarchive has (`strata diff` reads what it is given).
// Nested compressions (xz inside gzip) are undone by libarchive as before.
// With kDocker or kAll, `tar_tee` and the diffID see the bytes after gzip or
// zstd only: call skip_digest().
enum class TarFilters { kNone, kDocker, kAll };

class TarInput {
  public:
    // `what` names the stream in errors ("layer sha256:…"). `raw_tee` gets the
    // bytes as read from fd, `tar_tee` the uncompressed tar bytes.
    TarInput(int fd, std::string what, ByteSink raw_tee = nullptr, ByteSink tar_tee = nullptr,
             TarFilters filters = TarFilters::kNone);
    // The same over a stream that is not a file (a download in flight).
    TarInput(ChunkReader reader, std::string what, ByteSink raw_tee = nullptr,
             ByteSink tar_tee = nullptr, TarFilters filters = TarFilters::kNone);
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
    // The current entry's data one block at a time, to be passed on as a
    // stream (a layer blob inside an image archive): valid until the next
    // call, empty at the entry's end. Sparse holes are not filled in.
    std::string_view next_block();
    // Reads the rest of the stream (padding after the end-of-archive marker)
    // so that the hooks have seen every byte, and returns the diffID.
    Digest finish();
    // Instead of finish(), for readers that stop at the end of the archive
    // (ADD, `strata diff`): after next() returned nullptr, reads the rest of
    // the gzip member holding the tar's end, so that a cut or corrupt end
    // (CRC-32, length) is Error(kCorrupt); bytes after that member are not
    // read, as libarchive and Docker's tar reader ignore them.
    void finish_member();
    Compression compression() const;
    // Call before next(): the diffID is not computed (finish() returns an
    // empty Digest) — for a tar this process has just written and hashed.
    void skip_digest();

  private:
    void open(TarFilters filters);

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace strata::store
