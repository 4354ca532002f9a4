// libzstd for compression, opened on first use (libzstd.so.1).
//
// Not linked: Debian's static libzstd.a, which the static build links for
// libarchive's zstd reader (cmake/static_deps.cmake), is built without
// ZSTD_MULTITHREAD — it refuses ZSTD_c_nbWorkers >= 1, and its output would
// differ from the multithreaded format every other machine writes
// (zstd_encoder.hpp). The shared library is built with threads. Loading it
// only when a zstd layer is written keeps it out of every other process
// start, as curl_library.hpp does for libcurl.
#pragma once

#include <zstd.h>

namespace strata::store {

struct ZstdLibrary {
    ZSTD_CCtx* (*create_cctx)();
    size_t (*free_cctx)(ZSTD_CCtx*);
    size_t (*set_parameter)(ZSTD_CCtx*, ZSTD_cParameter, int);
    size_t (*compress_stream2)(ZSTD_CCtx*, ZSTD_outBuffer*, ZSTD_inBuffer*, ZSTD_EndDirective);
    size_t (*cstream_out_size)();
    unsigned (*is_error)(size_t);
    const char* (*error_name)(size_t);
    const char* (*version)();  // "1.5.4"
};

// Loads libzstd.so.1 once per process; thread-safe. Throws Error(kSystem)
// when it cannot be loaded.
const ZstdLibrary& zstd_library();

}  // namespace strata::store
