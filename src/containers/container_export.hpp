// `strata export CTR`: a container's merged filesystem — its image's layers
// with its upper directory on top, whiteouts and opaque directories applied —
// as one tar, like `docker export` (no whiteout entries in it).
//
// The merged view is copied (reflinked where the filesystem can) into a
// scratch directory under the store's tmp/ and tarred there by the layer
// writer, so the tar has the store's rules (store/rootfs_export.hpp: sorted
// entries, PAX restricted, numeric owners, whole-second mtimes). The mount
// points the sandbox made (container_diff.hpp mount_stubs) are left out,
// unless the image has them too.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "store/compression.hpp"
#include "store/image_store.hpp"

namespace strata::containers {

struct Container;

// Writes the merged view of `lower` (lowest first) and `upper` (all in
// overlay format) as one uncompressed tar to `sink`, leaving out `exclude`
// (relative paths of the merged view). The scratch copy is made under
// `scratch_parent` (on the layers' filesystem, for reflinks) and removed.
void export_merged_tar(const std::vector<std::filesystem::path>& lower,
                       const std::filesystem::path& upper, const std::set<std::string>& exclude,
                       const std::filesystem::path& scratch_parent, const store::ByteSink& sink);

// The container `c` (a record of the store at store.root()) as a tar.
void export_container(store::ImageStore& store, const Container& c, const store::ByteSink& sink);

}  // namespace strata::containers
