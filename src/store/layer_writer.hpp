// Layer export: a directory tree (an overlay upperdir or a plain tree) → a
// layer tar blob, in one pass.
//
// Rules (docs/store-layers.md): entries sorted by path bytewise; PAX
// (restricted: plain ustar headers, extended headers only where needed);
// numeric uid/gid, no user/group names; no atime/ctime; mtimes truncated to
// whole seconds and clamped to SOURCE_DATE_EPOCH when given; hardlinks inside
// the tree kept as hardlinks (by dev+inode); xattrs security.capability and
// user.* (never *.overlay.*); overlay whiteouts (char 0:0) → `.wh.<name>`;
// opaque dirs (trusted.overlay.opaque=y / user.overlay.opaque=y) →
// `<dir>/.wh..wh..opq`. The diffID (sha256 of the tar) and the digest (sha256
// of the compressed bytes) are computed as the bytes stream out.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "store/compression.hpp"
#include "store/content_store.hpp"
#include "store/digest.hpp"

namespace strata::store {

struct LayerWriteOptions {
    Compression compression = Compression::kGzip;
    std::optional<int64_t> source_date_epoch;
};

struct LayerBlob {
    Digest digest;           // of the blob as stored (compressed)
    Digest diff_id;          // of the uncompressed tar
    uint64_t size = 0;       // blob size in bytes
    std::string media_type;  // OCI layer media type for the compression
    uint64_t tar_size = 0;   // bytes of the uncompressed tar
    // The size Docker reports for the layer: regular file bytes plus symlink
    // target lengths, hardlinks counted once (LayerRecord::unpacked_size).
    uint64_t content_size = 0;
};

// Tars `dir` into a new blob in `store`.
LayerBlob write_layer(const std::filesystem::path& dir, ContentStore& store,
                      const LayerWriteOptions& opts);

// Same, but the compressed bytes go to `sink` (benchmarks, streaming exports).
// `size` in the result is the number of bytes given to the sink. The sink is
// called from a worker thread (compression runs beside the tree walk), one
// call at a time; all calls have returned when write_layer_to returns.
LayerBlob write_layer_to(const std::filesystem::path& dir, const ByteSink& sink,
                         const LayerWriteOptions& opts);

// Takes a layer tar stream in any compression (gzip/zstd/xz/bzip2/none,
// detected) from `fd`, checks that it is a readable tar (every header parses,
// the stream is not truncated; kCorrupt naming the entry otherwise), and
// stores it re-compressed with `compression`. The uncompressed bytes are kept
// exactly, so the diffID is that of the input tar; when `expected_diff_id` is
// given and differs, kCorrupt and nothing is stored. For `import` and `load`.
struct StoreTarOptions {
    Compression compression = Compression::kGzip;
    std::optional<Digest> expected_diff_id;
};
LayerBlob store_layer_tar(int fd, ContentStore& store, const StoreTarOptions& opts);
LayerBlob store_layer_tar(const std::filesystem::path& tar, ContentStore& store,
                          const StoreTarOptions& opts);

// Stores the bytes from `fd` unchanged as a blob (e.g. an already compressed
// layer from an OCI archive) and computes its diffID by decompressing while
// streaming; checks `expected_digest` / `expected_diff_id` when given
// (kCorrupt, nothing stored). media_type is derived from the detected compression.
LayerBlob store_layer_blob(int fd, ContentStore& store,
                           const std::optional<Digest>& expected_digest = std::nullopt,
                           const std::optional<Digest>& expected_diff_id = std::nullopt);

}  // namespace strata::store
