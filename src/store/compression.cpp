#include "store/compression.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/error.hpp"
#include "store/gzip_encoder.hpp"

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
// libarchive's "raw" format with a compression filter: one entry whose data is
// the byte stream. Options pin the output: gzip without timestamp (the 3.6
// gzip filter stores time(NULL) unless told otherwise) and no file name,
// fixed levels, no block padding after the compressed stream.

struct Compressor::Impl {
    Compression compression;
    ByteSink sink;
    std::unique_ptr<GzipEncoder> gzip;  // gzip: zlib in blocks (gzip_encoder.hpp)
    struct archive* a = nullptr;
    bool finished = false;
    std::exception_ptr sink_error;

    ~Impl() {
        if (a) archive_write_free(a);
    }

    static la_ssize_t on_write(struct archive*, void* ctx, const void* buf, size_t n) {
        auto* self = static_cast<Impl*>(ctx);
        try {
            self->sink(buf, n);
        } catch (...) {
            self->sink_error = std::current_exception();
            return -1;
        }
        return static_cast<la_ssize_t>(n);
    }

    [[noreturn]] void fail(const char* op) {
        if (sink_error) std::rethrow_exception(sink_error);
        const char* msg = archive_error_string(a);
        throw Error(ErrorKind::kInternal,
                    std::string("compressor: ") + op + ": " + (msg ? msg : "unknown error"));
    }
};

Compressor::Compressor(Compression c, ByteSink sink) : impl_(std::make_unique<Impl>()) {
    impl_->compression = c;
    impl_->sink = std::move(sink);
    if (c == Compression::kNone) return;  // pass-through, no libarchive needed
    if (c == Compression::kGzip) {
        impl_->gzip = std::make_unique<GzipEncoder>(impl_->sink, 0);
        return;
    }
    auto& a = impl_->a;
    a = archive_write_new();
    if (!a) throw Error(ErrorKind::kInternal, "archive_write_new failed");
    if (archive_write_add_filter_zstd(a) != ARCHIVE_OK) impl_->fail("zstd filter");
    const std::string options = "zstd:compression-level=" + std::to_string(kZstdLevel);
    if (archive_write_set_format_raw(a) != ARCHIVE_OK) impl_->fail("raw format");
    if (archive_write_set_options(a, options.c_str()) != ARCHIVE_OK) impl_->fail("options");
    // Unblocked output: the compressed bytes go to the sink as they come, with
    // no zero padding after the end of the stream.
    archive_write_set_bytes_per_block(a, 0);
    archive_write_set_bytes_in_last_block(a, 1);
    if (archive_write_open2(a, impl_.get(), nullptr, &Impl::on_write, nullptr, nullptr) !=
        ARCHIVE_OK)
        impl_->fail("open");
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, "data");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    int r = archive_write_header(a, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK) impl_->fail("header");
}

Compressor::~Compressor() = default;

void Compressor::write(const void* data, size_t n) {
    if (impl_->finished) throw Error(ErrorKind::kInternal, "write to a finished compressor");
    if (n == 0) return;
    if (impl_->gzip) return impl_->gzip->write(data, n);
    if (!impl_->a) {
        impl_->sink(data, n);
        return;
    }
    auto* p = static_cast<const char*>(data);
    while (n > 0) {
        la_ssize_t w = archive_write_data(impl_->a, p, n);
        if (w <= 0) impl_->fail("write");
        p += w;
        n -= static_cast<size_t>(w);
    }
}

void Compressor::finish() {
    if (impl_->finished) return;
    impl_->finished = true;
    if (impl_->gzip) return impl_->gzip->finish();
    if (!impl_->a) return;
    if (archive_write_close(impl_->a) != ARCHIVE_OK) impl_->fail("close");
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
