// What determines the bytes of the layer blobs strata writes, for
// `--metadata-file` ("strata.layer.compression", "strata.layer.tar"): a
// later strata, or another tool, given the same tree and these, writes the
// same blobs.
#pragma once

#include <string>

#include "store/compression.hpp"

namespace strata::store {

// "gzip, zlib 1.2.13, level 6, 256 KiB blocks with a 32 KiB dictionary,
// no name, mtime 0"; "zstd, libzstd 1.5.4, level 3, multithreaded format
// with 8 MiB jobs, checksum, no content size"; "none".
std::string compression_description(Compression c);

// "pax_restricted, libarchive 3.6.2, entries sorted bytewise, numeric
// owners, no atime/ctime, whole-second mtimes".
std::string tar_format_description();

}  // namespace strata::store
