#include "store/blob_format.hpp"

#include <archive.h>
#include <zlib.h>

#include <fmt/format.h>

#include <string_view>

#include "store/gzip_encoder.hpp"

namespace strata::store {

namespace {

// "libzstd/1.5.4" out of libarchive's "libarchive 3.6.2 zlib/1.2.13 ... libzstd/1.5.4".
std::string library_version(std::string_view name) {
    const std::string_view details = archive_version_details();
    const std::string key = std::string(name) + "/";
    const size_t at = details.find(key);
    if (at == std::string_view::npos) return "unknown";
    const size_t start = at + key.size();
    const size_t end = details.find(' ', start);
    return std::string(details.substr(start, end == std::string_view::npos ? end : end - start));
}

}  // namespace

std::string compression_description(Compression c) {
    switch (c) {
        case Compression::kGzip:
            // zlibVersion(): the library actually loaded, which is what
            // deflates (a different zlib may deflate differently).
            return fmt::format(
                "gzip, zlib {}, level {}, {} KiB blocks with a {} KiB dictionary, no name, mtime 0",
                zlibVersion(), kGzipLevel, GzipEncoder::kBlock / 1024, GzipEncoder::kWindow / 1024);
        case Compression::kZstd:
            return fmt::format("zstd, libzstd {}, level {}, written by {}",
                               library_version("libzstd"), kZstdLevel, archive_version_string());
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
