// `strata save`: images out of the store as one tarball that is both a
// docker-save archive (manifest.json, repositories: `docker load` reads it)
// and an OCI image layout (oci-layout, index.json, blobs/sha256/…: skopeo,
// umoci, podman read it) — the format Docker 25+ writes.
//
// The bytes depend only on the images and names saved: entries sorted by
// name, mtime 0, uid/gid 0 without user/group names, fixed modes, canonical
// JSON, layers as export_image() gives them (gzip unless asked otherwise,
// compressed once and memoized). Saving the same images from two stores
// gives identical tarballs.
#pragma once

#include <string>
#include <vector>

#include "store/compression.hpp"
#include "store/export_image.hpp"
#include "store/image_store.hpp"

namespace strata::store {

struct SaveEntry {
    ImageRecord image;
    std::vector<Reference> names;  // tagged; empty: saved by ID, unnamed
};

// Resolves `docker save` arguments: NAME:TAG, NAME@DIGEST, an ID (prefix),
// or a bare NAME, which means every tag of that repository. Error(kNotFound)
// for an unknown one. Images keep the order of first mention.
std::vector<SaveEntry> select_for_save(const ImageStore& store,
                                       const std::vector<std::string>& args);

// Writes the tarball to `out`, compressing (and memoizing) the layers that
// are not yet in `opts.compression` first. A blob that fails verification
// while being copied is Error(kCorrupt) (what was written so far must be
// discarded).
void write_archive(ImageStore& store, const std::vector<SaveEntry>& images, const ByteSink& out,
                   const ExportOptions& opts = {});

}  // namespace strata::store
