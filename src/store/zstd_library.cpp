#include "store/zstd_library.hpp"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "base/error.hpp"

namespace strata::store {

namespace {

constexpr const char* kSoname = "libzstd.so.1";

template <typename F>
void bind(void* lib, F& fn, const char* name) {
    void* sym = ::dlsym(lib, name);
    if (!sym)
        throw Error(ErrorKind::kSystem, std::string(kSoname) + " has no symbol " + name +
                                            " (libzstd 1.4 or later is needed)");
    fn = reinterpret_cast<F>(sym);
}

ZstdLibrary load() {
    void* lib = ::dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char* why = ::dlerror();
        throw Error(ErrorKind::kSystem,
                    std::string("cannot load libzstd (needed for zstd layers): ") +
                        (why ? why : "dlopen failed") + " (apt-get install libzstd1)");
    }
    // Never dlclose'd: contexts may outlive any scope here.
    ZstdLibrary z{};
    bind(lib, z.create_cctx, "ZSTD_createCCtx");
    bind(lib, z.free_cctx, "ZSTD_freeCCtx");
    bind(lib, z.set_parameter, "ZSTD_CCtx_setParameter");
    bind(lib, z.compress_stream2, "ZSTD_compressStream2");
    bind(lib, z.cstream_out_size, "ZSTD_CStreamOutSize");
    bind(lib, z.is_error, "ZSTD_isError");
    bind(lib, z.error_name, "ZSTD_getErrorName");
    bind(lib, z.version, "ZSTD_versionString");
    return z;
}

}  // namespace

const ZstdLibrary& zstd_library() {
    static std::once_flag once;
    static ZstdLibrary lib;
    static std::string failure;
    std::call_once(once, [] {
        try {
            lib = load();
        } catch (const Error& e) {
            failure = e.what();
        }
    });
    if (!failure.empty()) throw Error(ErrorKind::kSystem, failure);
    return lib;
}

}  // namespace strata::store
