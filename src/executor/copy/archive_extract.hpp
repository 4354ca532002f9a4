// ADD of a local tar archive: detection by content and extraction into the
// destination directory of the new layer.
//
// As BuildKit: an archive is a file that, after an optional gzip, bzip2, xz
// or zstd decompression, starts with a valid tar header (the name does not
// matter; anything else is copied as a plain file). Entries keep the
// archive's mode, uid/gid (unless --chown) and mtime; missing parent
// directories are created 0755 root:root; an entry replaces whatever is at
// its path unless both are directories. Entries that would land outside the
// destination — "..", or through a symlink that leads out — are refused, as
// are device nodes and names starting with ".wh.".
#pragma once

#include <optional>
#include <string>

#include "executor/copy/dest_state.hpp"
#include "executor/copy/owner.hpp"

namespace strata::executor {

// Whether `fd` (a regular file, read from offset 0) holds a tar archive.
// The offset is back at 0 afterwards.
bool is_tar_archive(int fd);

struct ExtractOptions {
    std::optional<Owner> owner;  // --chown: overrides the archive's ids
    std::string what;            // for messages: "ADD app.tar.gz"
};

// Extracts the archive from `fd` into the canonical layer directory
// `dest_dir` (which exists). Returns the number of entries written.
uint64_t extract_tar(int fd, DestState& dest, const std::string& dest_dir,
                     const ExtractOptions& options);

}  // namespace strata::executor
