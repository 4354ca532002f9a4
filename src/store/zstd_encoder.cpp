#include "store/zstd_encoder.hpp"

#include <algorithm>
#include <string>

#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "store/zstd_library.hpp"

namespace strata::store {

namespace {

[[noreturn]] void fail(const ZstdLibrary& z, const char* what, size_t code) {
    throw Error(ErrorKind::kInternal, std::string("zstd: ") + what + ": " + z.error_name(code));
}

void set(const ZstdLibrary& z, ZSTD_CCtx* c, ZSTD_cParameter p, int value, const char* what) {
    const size_t r = z.set_parameter(c, p, value);
    if (z.is_error(r)) fail(z, what, r);
}

}  // namespace

void ZstdEncoder::CCtxDeleter::operator()(ZSTD_CCtx_s* c) const {
    zstd_library().free_cctx(c);
}

unsigned ZstdEncoder::default_workers() {
    return std::max(1u, thread_pool_size());
}

std::string ZstdEncoder::library_version() {
    return zstd_library().version();
}

ZstdEncoder::ZstdEncoder(ByteSink sink, int level, unsigned workers) : sink_(std::move(sink)) {
    const ZstdLibrary& z = zstd_library();
    cctx_.reset(z.create_cctx());
    if (!cctx_) throw Error(ErrorKind::kInternal, "zstd: ZSTD_createCCtx failed (out of memory)");
    out_.resize(z.cstream_out_size());
    ZSTD_CCtx* c = cctx_.get();
    if (workers == 0) workers = default_workers();
    // nbWorkers first: it decides whether jobSize is accepted at all. A
    // libzstd built without threads refuses it, and its output would differ.
    const size_t r = z.set_parameter(c, ZSTD_c_nbWorkers, static_cast<int>(workers));
    if (z.is_error(r))
        throw Error(ErrorKind::kSystem,
                    std::string("zstd: libzstd ") + z.version() +
                        " cannot compress with threads (" + z.error_name(r) +
                        "); zstd layers need a libzstd.so.1 built with ZSTD_MULTITHREAD, as "
                        "Debian's is");
    set(z, c, ZSTD_c_compressionLevel, level, "compression level");
    set(z, c, ZSTD_c_jobSize, static_cast<int>(kJobSize), "job size");
    set(z, c, ZSTD_c_checksumFlag, 1, "checksum flag");
    set(z, c, ZSTD_c_contentSizeFlag, 0, "content size flag");
    set(z, c, ZSTD_c_dictIDFlag, 0, "dictionary ID flag");
}

ZstdEncoder::~ZstdEncoder() = default;

void ZstdEncoder::write(const void* data, size_t n) {
    if (finished_) throw Error(ErrorKind::kInternal, "write to a finished zstd encoder");
    const ZstdLibrary& z = zstd_library();
    ZSTD_inBuffer in{data, n, 0};
    while (in.pos < in.size) {
        ZSTD_outBuffer out{out_.data(), out_.size(), 0};
        const size_t r = z.compress_stream2(cctx_.get(), &out, &in, ZSTD_e_continue);
        if (z.is_error(r)) fail(z, "compress", r);
        if (out.pos > 0) sink_(out_.data(), out.pos);
    }
}

void ZstdEncoder::finish() {
    if (finished_) return;
    finished_ = true;
    const ZstdLibrary& z = zstd_library();
    ZSTD_inBuffer in{nullptr, 0, 0};
    for (;;) {
        ZSTD_outBuffer out{out_.data(), out_.size(), 0};
        const size_t left = z.compress_stream2(cctx_.get(), &out, &in, ZSTD_e_end);
        if (z.is_error(left)) fail(z, "end frame", left);
        if (out.pos > 0) sink_(out_.data(), out.pos);
        if (left == 0) break;
    }
}

}  // namespace strata::store
