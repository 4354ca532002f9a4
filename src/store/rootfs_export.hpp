// The merged filesystem of an image — its layers applied in order, whiteouts
// and opaque markers honoured — written out as a directory or as one tar
// stream: `strata build --output type=local|tar` (docs/build.md, "--output").
//
// The tar has the layer writer's rules (entries sorted bytewise, PAX
// restricted, numeric owners, no atime/ctime, mtimes in whole seconds), so
// the same image and epoch always give the same bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "store/compression.hpp"
#include "store/image_store.hpp"

namespace strata::store {

struct RootfsExportOptions {
    // Every mtime later than this is set to it (SOURCE_DATE_EPOCH).
    std::optional<int64_t> source_date_epoch;
    // chown entries to the layers' numeric owners (needs root or a user
    // namespace); otherwise the files belong to the caller.
    bool same_owner = true;
};

// Applies the image's layers onto `dest` (created when missing; existing
// files that the image also has are replaced, others are left alone).
void export_rootfs_dir(const ImageStore& store, const ImageRecord& image,
                       const std::filesystem::path& dest, const RootfsExportOptions& opts);

// Writes the merged filesystem as an uncompressed tar to `sink`. Needs a
// scratch directory the size of the image, under the store's tmp/.
void export_rootfs_tar(const ImageStore& store, const ImageRecord& image, const ByteSink& sink,
                       const RootfsExportOptions& opts);

}  // namespace strata::store
