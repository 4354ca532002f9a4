#include "store/blob_format.hpp"

#include <archive.h>
#include <zlib.h>

#include <fmt/format.h>

#include "store/gzip_encoder.hpp"
#include "store/zstd_encoder.hpp"

namespace strata::store {

std::string compression_description(Compression c) {
    switch (c) {
        case Compression::kGzip:
            // zlibVersion(): the library actually loaded, which is what
            // deflates (a different zlib may deflate differently).
            return fmt::format(
                "gzip, zlib {}, level {}, {} KiB blocks with a {} KiB dictionary, no name, mtime 0",
                zlibVersion(), kGzipLevel, GzipEncoder::kBlock / 1024, GzipEncoder::kWindow / 1024);
        case Compression::kZstd:
            // The libzstd that compresses (loaded, not linked). Its
            // multithreaded format: any number of workers writes the same
            // bytes (zstd_encoder.hpp), with a pinned job size.
            return fmt::format(
                "zstd, libzstd {}, level {}, multithreaded format with {} MiB jobs, checksum, "
                "no content size",
                ZstdEncoder::library_version(), kZstdLevel, ZstdEncoder::kJobSize >> 20);
        case Compression::kNone:
            break;
    }
    return "none";
}

std::string tar_format_description() {
    // archive_version_string(): "libarchive 3.6.2".
    return fmt::format(
        "pax_restricted, {}, entries sorted bytewise, numeric owners, no atime/ctime, "
        "whole-second mtimes",
        archive_version_string());
}

}  // namespace strata::store
