#include "store/tar_input.hpp"

#include <archive.h>
#include <archive_entry.h>

#include "base/error.hpp"

namespace strata::store {

struct TarInput::Impl {
    std::string what;
    ByteSink tar_tee;
    Decompressor source;
    Sha256 diff_id;
    struct archive* a = nullptr;
    struct archive_entry* entry = nullptr;
    std::string last_name;
    std::exception_ptr source_error;
    bool finished = false;
    bool hash = true;

    Impl(int fd, std::string w, ByteSink raw_tee, ByteSink tee)
        : what(std::move(w)), tar_tee(std::move(tee)), source(fd, std::move(raw_tee), what) {}
    Impl(ChunkReader reader, std::string w, ByteSink raw_tee, ByteSink tee)
        : what(std::move(w)),
          tar_tee(std::move(tee)),
          source(std::move(reader), std::move(raw_tee), what) {}
    ~Impl() {
        if (a) archive_read_free(a);
    }

    void consume(std::string_view chunk) {
        if (hash) diff_id.update(chunk.data(), chunk.size());
        if (tar_tee) tar_tee(chunk.data(), chunk.size());
    }

    static la_ssize_t on_read(struct archive*, void* ctx, const void** out) {
        auto* self = static_cast<Impl*>(ctx);
        try {
            auto chunk = self->source.next();
            self->consume(chunk);
            *out = chunk.data();
            return static_cast<la_ssize_t>(chunk.size());
        } catch (...) {
            self->source_error = std::current_exception();
            return -1;
        }
    }

    [[noreturn]] void fail(const std::string& where) {
        if (source_error) std::rethrow_exception(source_error);
        const char* msg = archive_error_string(a);
        throw Error(ErrorKind::kCorrupt,
                    what + ": " + where + ": " + (msg ? msg : "unreadable tar stream"));
    }

    std::string where() const {
        return last_name.empty() ? std::string("at the first entry")
                                 : "after entry '" + last_name + "'";
    }
};

TarInput::TarInput(int fd, std::string what, ByteSink raw_tee, ByteSink tar_tee, TarFilters filters)
    : impl_(std::make_unique<Impl>(fd, std::move(what), std::move(raw_tee), std::move(tar_tee))) {
    open(filters);
}

TarInput::TarInput(ChunkReader reader, std::string what, ByteSink raw_tee, ByteSink tar_tee,
                   TarFilters filters)
    : impl_(std::make_unique<Impl>(std::move(reader), std::move(what), std::move(raw_tee),
                                   std::move(tar_tee))) {
    open(filters);
}

void TarInput::open(TarFilters filters) {
    auto& a = impl_->a;
    a = archive_read_new();
    if (!a) throw Error(ErrorKind::kInternal, "archive_read_new failed");
    switch (filters) {
        case TarFilters::kNone:
            break;
        case TarFilters::kDocker:
            // gzip and zstd here only when nested inside another compression.
            archive_read_support_filter_gzip(a);
            archive_read_support_filter_bzip2(a);
            archive_read_support_filter_xz(a);
            archive_read_support_filter_zstd(a);
            break;
        case TarFilters::kAll:
            archive_read_support_filter_all(a);
            break;
    }
    archive_read_support_format_tar(a);
    // No skip/seek callbacks: skipping data reads through it, so the hooks see
    // every byte.
    if (archive_read_open(a, impl_.get(), nullptr, &Impl::on_read, nullptr) != ARCHIVE_OK)
        impl_->fail("cannot open the tar stream");
}

TarInput::~TarInput() = default;

struct archive_entry* TarInput::next() {
    int r = archive_read_next_header(impl_->a, &impl_->entry);
    if (r == ARCHIVE_EOF) {
        impl_->entry = nullptr;
        return nullptr;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) impl_->fail(impl_->where());
    const char* name = archive_entry_pathname(impl_->entry);
    impl_->last_name = name ? name : "";
    return impl_->entry;
}

std::string TarInput::entry_name() const {
    return impl_->last_name;
}

void TarInput::read_data(const std::function<void(const void*, size_t, int64_t)>& fn) {
    for (;;) {
        const void* buf = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        int r = archive_read_data_block(impl_->a, &buf, &size, &offset);
        if (r == ARCHIVE_EOF) return;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            impl_->fail("entry '" + impl_->last_name + "' (data)");
        if (size > 0) fn(buf, size, offset);
    }
}

std::string_view TarInput::next_block() {
    for (;;) {
        const void* buf = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        int r = archive_read_data_block(impl_->a, &buf, &size, &offset);
        if (r == ARCHIVE_EOF) return {};
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            impl_->fail("entry '" + impl_->last_name + "' (data)");
        if (size > 0) return {static_cast<const char*>(buf), size};
    }
}

Digest TarInput::finish() {
    if (impl_->finished) throw Error(ErrorKind::kInternal, "TarInput::finish called twice");
    impl_->finished = true;
    for (;;) {
        auto chunk = impl_->source.next();
        if (chunk.empty()) break;
        impl_->consume(chunk);
    }
    if (!impl_->hash) return Digest{};
    return impl_->diff_id.finish();
}

void TarInput::finish_member() {
    if (impl_->finished) throw Error(ErrorKind::kInternal, "TarInput::finish called twice");
    impl_->finished = true;
    impl_->source.finish_member();
}

void TarInput::skip_digest() {
    impl_->hash = false;
}

Compression TarInput::compression() const {
    return impl_->source.detected();
}

}  // namespace strata::store
