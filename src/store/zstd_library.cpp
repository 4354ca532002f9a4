#include "store/zstd_library.hpp"

#include "base/error.hpp"
#include "base/shared_library.hpp"

namespace strata::store {

namespace {

// Every symbol below exists since libzstd 1.4.
constexpr const char* kTooOld = "libzstd 1.4 or later is needed";

ZstdLibrary load() {
    const SharedLibrary lib("libzstd.so.1", "libzstd (needed for zstd layers)", "libzstd1");
    ZstdLibrary z{};
    lib.bind(z.create_cctx, "ZSTD_createCCtx", kTooOld);
    lib.bind(z.free_cctx, "ZSTD_freeCCtx", kTooOld);
    lib.bind(z.set_parameter, "ZSTD_CCtx_setParameter", kTooOld);
    lib.bind(z.compress_stream2, "ZSTD_compressStream2", kTooOld);
    lib.bind(z.cstream_out_size, "ZSTD_CStreamOutSize", kTooOld);
    lib.bind(z.is_error, "ZSTD_isError", kTooOld);
    lib.bind(z.error_name, "ZSTD_getErrorName", kTooOld);
    lib.bind(z.version, "ZSTD_versionString", kTooOld);
    return z;
}

}  // namespace

const ZstdLibrary& zstd_library() {
    return load_library_once<ZstdLibrary, &load>();
}

}  // namespace strata::store
