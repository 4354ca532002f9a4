// Images as they leave the machine: `save`, `--output type=docker|oci`, and
// later push and cache export.
//
// A build stores its layers as plain tars (docs/store-layers.md): the image
// ID is the config digest, which needs diffIDs only, so nothing on the build
// path compresses. A layer is compressed when it leaves, once per (diffID,
// compression, level): the compressed blob goes into the content store and a
// memo <root>/exports/<compression>-<level>/<diffID hex> names it ("sha256:…
// SIZE"), so the second save or push of an image reads the blob instead of
// compressing again. The compressors are deterministic at a fixed level, so
// every machine makes the same blob and the same manifest digest. `strata
// prune` deletes the compressed copies (no image refers to them) and their
// memos; the next export makes them again.
#pragma once

#include <functional>
#include <set>
#include <string>

#include "store/compression.hpp"
#include "store/image_store.hpp"

namespace strata::store {

struct ExportOptions {
    Compression compression = Compression::kGzip;
    // A layer that is compressed already (gzip or zstd: pulled, loaded)
    // leaves as it is, whatever `compression` says — push's rule, as Docker
    // and buildx without force-compression push a pulled image back byte for
    // byte. `compression` then applies to plain tars only.
    bool keep_compressed = false;
    // Called before a layer is compressed (not for a memo hit): progress.
    std::function<void(const LayerRecord&)> on_compress;
};

// The layer as it leaves: `layer` itself when its blob is already in the
// wanted compression, else the memoized compressed copy (made now when
// missing). The input blob is checked against the layer's diffID while it
// is read (kCorrupt: "run `strata store check`"). Hold a lease.
LayerRecord export_layer(ImageStore& store, const LayerRecord& layer, const ExportOptions& opts);

// The image as it leaves: the same config (so the same image ID), and a
// manifest over export_layer() of every layer, in the stored manifest's
// format (OCI or Docker schema2) with its annotations. When no layer
// changes, that is the stored manifest; otherwise the new manifest is put in
// the content store. Hold a lease.
ImageRecord export_image(ImageStore& store, const ImageRecord& image, const ExportOptions& opts);

// Where the memo of (diffID, compression) lives.
std::filesystem::path export_memo_path(const ImageStore& store, const Digest& diff_id,
                                       Compression c);
// The blobs the memos name (compressed copies kept for the next export).
std::set<Digest> export_memo_blobs(const ImageStore& store);
// Removes memos whose blob is gone (after prune deleted it); returns how many.
size_t remove_stale_export_memos(ImageStore& store);

}  // namespace strata::store
