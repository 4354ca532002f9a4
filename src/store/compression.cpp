#include "store/compression.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/error.hpp"
#include "store/gzip_encoder.hpp"
#include "store/zstd_encoder.hpp"

namespace strata::store {

Compression parse_compression(std::string_view name) {
    if (name == "gzip") return Compression::kGzip;
    if (name == "zstd") return Compression::kZstd;
    if (name == "none" || name == "uncompressed") return Compression::kNone;
    throw Error(ErrorKind::kUsage, "unknown compression '" + std::string(name) +
                                       "' (expected gzip, zstd or uncompressed)");
}

std::string_view compression_name(Compression c) {
    switch (c) {
        case Compression::kGzip:
            return "gzip";
        case Compression::kZstd:
            return "zstd";
        case Compression::kNone:
            break;
    }
    return "none";
}

std::string layer_media_type(Compression c, bool oci) {
    if (!oci) {
        if (c == Compression::kGzip) return "application/vnd.docker.image.rootfs.diff.tar.gzip";
        if (c == Compression::kNone) return "application/vnd.docker.image.rootfs.diff.tar";
    }
    switch (c) {
        case Compression::kGzip:
            return "application/vnd.oci.image.layer.v1.tar+gzip";
        case Compression::kZstd:
            return "application/vnd.oci.image.layer.v1.tar+zstd";
        case Compression::kNone:
            break;
    }
    return "application/vnd.oci.image.layer.v1.tar";
}

std::optional<Compression> compression_from_media_type(std::string_view mt) {
    static constexpr std::string_view kOci[] = {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
    };
    for (auto base : kOci) {
        if (!mt.starts_with(base)) continue;
        auto rest = mt.substr(base.size());
        if (rest.empty()) return Compression::kNone;
        if (rest == "+gzip") return Compression::kGzip;
        if (rest == "+zstd") return Compression::kZstd;
    }
    if (mt == "application/vnd.docker.image.rootfs.diff.tar") return Compression::kNone;
    if (mt == "application/vnd.docker.image.rootfs.diff.tar.gzip" ||
        mt == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")
        return Compression::kGzip;
    if (mt == "application/vnd.docker.image.rootfs.diff.tar.zstd") return Compression::kZstd;
    return std::nullopt;
}

Compression detect_compression(const void* head, size_t n) {
    auto* b = static_cast<const unsigned char*>(head);
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return Compression::kGzip;
    if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
        return Compression::kZstd;
    return Compression::kNone;
}

// --- Compressor ---------------------------------------------------------------
//
// gzip: zlib in blocks (gzip_encoder.hpp), here on the caller's thread only;
// zstd: libzstd with its worker threads (zstd_encoder.hpp). Both write the
// same bytes for the same input on any machine.

struct Compressor::Impl {
    ByteSink sink;
    std::unique_ptr<GzipEncoder> gzip;
    std::unique_ptr<ZstdEncoder> zstd;
    bool finished = false;
};

Compressor::Compressor(Compression c, ByteSink sink) : impl_(std::make_unique<Impl>()) {
    impl_->sink = std::move(sink);
    if (c == Compression::kGzip) impl_->gzip = std::make_unique<GzipEncoder>(impl_->sink, 0);
    if (c == Compression::kZstd) impl_->zstd = std::make_unique<ZstdEncoder>(impl_->sink);
}

Compressor::~Compressor() = default;

void Compressor::write(const void* data, size_t n) {
    if (impl_->finished) throw Error(ErrorKind::kInternal, "write to a finished compressor");
    if (n == 0) return;
    if (impl_->gzip) return impl_->gzip->write(data, n);
    if (impl_->zstd) return impl_->zstd->write(data, n);
    impl_->sink(data, n);
}

void Compressor::finish() {
    if (impl_->finished) return;
    impl_->finished = true;
    if (impl_->gzip) return impl_->gzip->finish();
    if (impl_->zstd) return impl_->zstd->finish();
}

// --- Decompressor -----------------------------------------------------------

struct Decompressor::Impl {
    int fd;
    ByteSink tee;
    std::string what;
    struct archive* a = nullptr;
    std::vector<char> buf = std::vector<char>(1 << 20);
    std::exception_ptr io_error;
    bool eof = false;
    uint64_t raw_bytes = 0;
    std::string_view pending;  // rest of the last block for read()

    ~Impl() {
        if (a) archive_read_free(a);
    }

    static la_ssize_t on_read(struct archive*, void* ctx, const void** out) {
        auto* self = static_cast<Impl*>(ctx);
        for (;;) {
            ssize_t r = ::read(self->fd, self->buf.data(), self->buf.size());
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {
                self->io_error = std::make_exception_ptr(system_error("read", self->what));
                return -1;
            }
            self->raw_bytes += static_cast<uint64_t>(r);
            if (r > 0 && self->tee) {
                try {
                    self->tee(self->buf.data(), static_cast<size_t>(r));
                } catch (...) {
                    self->io_error = std::current_exception();
                    return -1;
                }
            }
            *out = self->buf.data();
            return r;
        }
    }

    [[noreturn]] void fail() {
        if (io_error) std::rethrow_exception(io_error);
        const char* msg = archive_error_string(a);
        throw Error(ErrorKind::kCorrupt,
                    what + ": cannot decompress: " + (msg ? msg : "unknown error"));
    }
};

Decompressor::Decompressor(int fd, ByteSink tee, std::string what)
    : impl_(std::make_unique<Impl>()) {
    impl_->fd = fd;
    impl_->tee = std::move(tee);
    impl_->what = std::move(what);
    auto& a = impl_->a;
    a = archive_read_new();
    if (!a) throw Error(ErrorKind::kInternal, "archive_read_new failed");
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_format_raw(a);
    int r = archive_read_open(a, impl_.get(), nullptr, &Impl::on_read, nullptr);
    struct archive_entry* e = nullptr;
    if (r == ARCHIVE_OK) r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF || (r != ARCHIVE_OK && impl_->raw_bytes == 0 && !impl_->io_error)) {
        impl_->eof = true;  // empty input: libarchive's raw format does not bid on it
    } else if (r != ARCHIVE_OK) {
        impl_->fail();
    }
}

Decompressor::~Decompressor() = default;

std::string_view Decompressor::next() {
    if (!impl_->pending.empty()) {
        auto p = impl_->pending;
        impl_->pending = {};
        return p;
    }
    while (!impl_->eof) {
        const void* buf = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        int r = archive_read_data_block(impl_->a, &buf, &size, &offset);
        if (r == ARCHIVE_EOF) {
            impl_->eof = true;
            break;
        }
        if (r != ARCHIVE_OK) impl_->fail();
        if (size > 0) return {static_cast<const char*>(buf), size};
    }
    return {};
}

size_t Decompressor::read(void* out, size_t n) {
    if (impl_->pending.empty()) impl_->pending = next();
    size_t k = std::min(n, impl_->pending.size());
    std::memcpy(out, impl_->pending.data(), k);
    impl_->pending.remove_prefix(k);
    return k;
}

void Decompressor::drain() {
    while (!next().empty()) {
    }
}

Compression Decompressor::detected() const {
    switch (archive_filter_code(impl_->a, 0)) {
        case ARCHIVE_FILTER_GZIP:
            return Compression::kGzip;
        case ARCHIVE_FILTER_ZSTD:
            return Compression::kZstd;
        default:
            return Compression::kNone;
    }
}

}  // namespace strata::store
