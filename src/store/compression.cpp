#include "store/compression.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/error.hpp"
#include "base/read_buffer.hpp"
#include "store/gzip_decoder.hpp"
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

namespace {

// Enough of the stream's start to tell gzip and zstd from a plain tar.
constexpr size_t kMagicBytes = 4;
constexpr size_t kReadChunk = 1 << 20;
// igzip and zlib both run fastest writing a few hundred KiB at a time.
constexpr size_t kInflateChunk = 256 << 10;

ChunkReader fd_reader(int fd, const std::string& what) {
    auto buf = std::make_shared<ReadBuffer>(kReadChunk);
    return [fd, what, buf]() -> std::string_view {
        for (;;) {
            ssize_t r = ::read(fd, buf->data(), buf->size());
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) throw system_error("read", what);
            return {buf->data(), static_cast<size_t>(r)};
        }
    };
}

}  // namespace

struct Decompressor::Impl {
    ChunkReader source;
    ByteSink tee;
    std::string what;
    Compression kind = Compression::kNone;
    std::string head_copy;  // the first bytes when they came in pieces
    std::string_view head;  // the first chunk, not yet handed out
    bool source_eof = false;
    // gzip
    std::unique_ptr<GzipDecoder> gzip;
    std::vector<char> out;
    std::string_view in;  // compressed bytes not yet inflated
    // zstd, through libarchive
    struct archive* a = nullptr;
    std::exception_ptr io_error;
    bool eof = false;
    std::string_view pending;  // rest of the last block for read()

    ~Impl() {
        if (a) archive_read_free(a);
    }

    // The next chunk from the source, tee'd; empty at the end.
    std::string_view pull() {
        if (source_eof) return {};
        std::string_view c = source();
        if (c.empty()) {
            source_eof = true;
            return {};
        }
        if (tee) tee(c.data(), c.size());
        return c;
    }

    // The next raw chunk: the head first.
    std::string_view raw() {
        if (!head.empty()) {
            std::string_view h = head;
            head = {};
            return h;
        }
        return pull();
    }

    void read_head() {
        head = pull();
        if (head.size() >= kMagicBytes || head.empty()) return;
        head_copy.assign(head);
        while (head_copy.size() < kMagicBytes) {
            std::string_view c = pull();
            if (c.empty()) break;
            head_copy.append(c);
        }
        head = head_copy;
    }

    static la_ssize_t on_read(struct archive*, void* ctx, const void** out) {
        auto* self = static_cast<Impl*>(ctx);
        try {
            std::string_view c = self->raw();
            *out = c.data();
            return static_cast<la_ssize_t>(c.size());
        } catch (...) {
            self->io_error = std::current_exception();
            return -1;
        }
    }

    [[noreturn]] void fail() {
        if (io_error) std::rethrow_exception(io_error);
        const char* msg = archive_error_string(a);
        throw Error(ErrorKind::kCorrupt,
                    what + ": cannot decompress: " + (msg ? msg : "unknown error"));
    }

    void open_zstd() {
        a = archive_read_new();
        if (!a) throw Error(ErrorKind::kInternal, "archive_read_new failed");
        archive_read_support_filter_zstd(a);
        archive_read_support_format_raw(a);
        int r = archive_read_open(a, this, nullptr, &Impl::on_read, nullptr);
        struct archive_entry* e = nullptr;
        if (r == ARCHIVE_OK) r = archive_read_next_header(a, &e);
        if (r != ARCHIVE_OK) fail();
    }

    std::string_view next_gzip() {
        for (;;) {
            if (in.empty()) {
                in = raw();
                if (in.empty()) {
                    gzip->finish();
                    return {};
                }
            }
            const size_t n = gzip->inflate(in, out.data(), out.size());
            if (n > 0) return {out.data(), n};
        }
    }

    std::string_view next_zstd() {
        while (!eof) {
            const void* buf = nullptr;
            size_t size = 0;
            la_int64_t offset = 0;
            int r = archive_read_data_block(a, &buf, &size, &offset);
            if (r == ARCHIVE_EOF) {
                eof = true;
                break;
            }
            if (r != ARCHIVE_OK) fail();
            if (size > 0) return {static_cast<const char*>(buf), size};
        }
        return {};
    }
};

Decompressor::Decompressor(int fd, ByteSink tee, std::string what)
    : Decompressor(fd_reader(fd, what), std::move(tee), what) {}

Decompressor::Decompressor(ChunkReader source, ByteSink tee, std::string what)
    : impl_(std::make_unique<Impl>()) {
    impl_->source = std::move(source);
    impl_->tee = std::move(tee);
    impl_->what = std::move(what);
    impl_->read_head();
    impl_->kind = detect_compression(impl_->head.data(), impl_->head.size());
    if (impl_->kind == Compression::kGzip) {
        impl_->gzip = std::make_unique<GzipDecoder>(impl_->what);
        impl_->out.resize(kInflateChunk);
    } else if (impl_->kind == Compression::kZstd) {
        impl_->open_zstd();
    }
}

Decompressor::~Decompressor() = default;

std::string_view Decompressor::next() {
    if (!impl_->pending.empty()) {
        auto p = impl_->pending;
        impl_->pending = {};
        return p;
    }
    switch (impl_->kind) {
        case Compression::kGzip:
            return impl_->next_gzip();
        case Compression::kZstd:
            return impl_->next_zstd();
        case Compression::kNone:
            break;
    }
    return impl_->raw();
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

void Decompressor::finish_member() {
    if (impl_->kind != Compression::kGzip) return;
    impl_->pending = {};
    GzipDecoder& gzip = *impl_->gzip;
    while (gzip.in_member()) {
        if (impl_->in.empty()) {
            impl_->in = impl_->raw();
            if (impl_->in.empty()) return gzip.finish();  // throws: truncated
        }
        gzip.inflate_member(impl_->in, impl_->out.data(), impl_->out.size());
    }
}

Compression Decompressor::detected() const {
    return impl_->kind;
}

}  // namespace strata::store
