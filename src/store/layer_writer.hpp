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

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "store/compression.hpp"
#include "store/content_store.hpp"
#include "store/digest.hpp"

namespace strata::store {

struct LayerWriteOptions {
    Compression compression = Compression::kGzip;
    std::optional<int64_t> source_date_epoch;
    // Paths in the directory ("etc/hosts": relative, no trailing slash) left
    // out of the tar with everything under them: the mount points a sandbox
    // made in a container's upper directory (containers/container_diff.hpp).
    std::set<std::string> exclude;
    // Entries named "<name_prefix>/<path>", preceded by the directory itself
    // as "<name_prefix>" (`strata cp`'s archive of a directory, as docker cp
    // names it); "": plain relative names and no entry for the directory.
    std::string name_prefix;
    // Read many small files' contents ahead on the thread pool (the tar is
    // the same either way; off: one file at a time, for comparisons).
    bool read_ahead = true;
    // A stored blob this layer is likely to equal (the last build's layer
    // for the same step; uncompressed layers only): compared with instead of
    // written while it matches (ContentStore::Writer::compare_with).
    std::optional<Digest> likely_blob;
    // When the blob's rename becomes durable (write_layer; ContentStore::DirSync).
    ContentStore::DirSync dir_sync = ContentStore::DirSync::kNow;
};

// What a regular file's tar header is made from besides its name and size.
struct HeaderInputs {
    uint32_t mode = 0;  // st_mode
    uint32_t uid = 0;
    uint32_t gid = 0;
    int64_t mtime = 0;  // as written: whole seconds, clamped
    bool operator==(const HeaderInputs&) const = default;
};

// What write_layer did with one LayerFile it was given.
struct WrittenFile {
    uint64_t offset = 0;       // where its data starts in the tar
    uint64_t header_size = 0;  // bytes of headers before it (512: one ustar block)
    HeaderInputs header;
    bool xattrs = false;  // its entry has xattrs
    bool stored = false;  // its bytes came from its StoredBytes
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
    // Per LayerFile given to write_layer, in the order given.
    std::vector<WrittenFile> files;
};

// Tars `dir` into a new blob in `store`.
LayerBlob write_layer(const std::filesystem::path& dir, ContentStore& store,
                      const LayerWriteOptions& opts);

// Where the bytes (and the xattrs) of a LayerFile come from, opened when its
// entry is written.
struct LayerFileSource {
    UniqueFd data;    // read from offset 0, exactly `st.st_size` bytes
    UniqueFd xattrs;  // its layer xattrs go into the entry; invalid: none
};

// Bytes already in the store that equal a LayerFile's content: that file's
// data in an earlier layer blob (the last build's layer of the same COPY,
// executor/copy/copy_reuse.hpp).
struct StoredBytes {
    std::shared_ptr<const UniqueFd> blob;  // the earlier blob, open for reading
    uint64_t offset = 0;                   // where the entry's data starts in it
    // Set: the 512 bytes before `offset` are the whole header (one ustar
    // block) that this strata binary wrote for this name and these inputs.
    // When the entry's inputs are the same again, those bytes are the
    // header: copied with the data instead of formatted by libarchive.
    std::optional<HeaderInputs> header;
};

// A regular file of the layer that is not in the directory: a COPY writes
// its files into the tar straight from their sources (executor/copy,
// LayerTree::record_files) instead of making them first. The entry is
// written by the same rules as a file found in the directory, its header
// from `st` (mode, uid, gid, size, mtime; st_nlink 1: never a hardlink).
struct LayerFile {
    std::string name;  // tar path: relative, no trailing slash ("app/main.c")
    struct stat st {};
    std::string shown;  // for messages: the source file on disk
    std::function<LayerFileSource()> open;
    // Set: the bytes are read from there and open() is not called (no open,
    // no xattr listing: whoever sets it vouches that the source has no layer
    // xattrs). Checked first: the 512-byte ustar header before `offset` must
    // be a regular file's of st_size bytes with a valid checksum, else the
    // source is opened after all.
    std::optional<StoredBytes> stored;
};

// Tars `dir` together with `files` (placed among the directory's entries in
// the same sorted order) into a new blob in `store`. A name in both is a
// kConflict.
LayerBlob write_layer(const std::filesystem::path& dir, const std::vector<LayerFile>& files,
                      ContentStore& store, const LayerWriteOptions& opts);
LayerBlob write_layer_to(const std::filesystem::path& dir, const std::vector<LayerFile>& files,
                         const ByteSink& sink, const LayerWriteOptions& opts);

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
