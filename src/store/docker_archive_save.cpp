#include "store/docker_archive_save.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <map>
#include <set>

#include "base/error.hpp"
#include "base/read_buffer.hpp"
#include "store/canonical_json.hpp"
#include "store/oci_layout.hpp"

namespace strata::store {

using nlohmann::json;

std::vector<SaveEntry> select_for_save(const ImageStore& store,
                                       const std::vector<std::string>& args) {
    NameIndex names = store.names();
    std::vector<ImageRecord> images = store.images();
    std::vector<SaveEntry> out;
    auto add = [&](const ImageRecord& img, const std::optional<Reference>& name) {
        auto it = std::find_if(out.begin(), out.end(), [&](const SaveEntry& e) {
            return e.image.manifest == img.manifest;
        });
        if (it == out.end()) {
            out.push_back(SaveEntry{img, {}});
            it = out.end() - 1;
        }
        if (name && std::find(it->names.begin(), it->names.end(), *name) == it->names.end())
            it->names.push_back(*name);
    };
    for (const auto& arg : args) {
        auto ref = Reference::try_parse(arg);
        if (ref && ref->name_only()) {
            auto tagged = names.in_repository(ref->repository());
            if (!tagged.empty()) {
                for (const auto& [name, digest] : tagged) {
                    // (clang 14 cannot capture a structured binding: name it)
                    auto img = std::find_if(
                        images.begin(), images.end(),
                        [&d = digest](const ImageRecord& r) { return r.manifest == d; });
                    if (img == images.end())
                        throw Error(ErrorKind::kCorrupt,
                                    fmt::format("{} points at {}, which has no image record",
                                                name.familiar(), digest.str()));
                    add(*img, name);
                }
                continue;
            }
        }
        ImageMatch m = store.lookup(arg, names, images);
        add(m.image, m.name);
    }
    return out;
}

namespace {

class TarWriter {
  public:
    explicit TarWriter(const ByteSink& sink) : sink_(sink) {
        a_ = archive_write_new();
        if (!a_) throw Error(ErrorKind::kInternal, "archive_write_new failed");
        e_ = archive_entry_new();
        if (archive_write_set_format_pax_restricted(a_) != ARCHIVE_OK) fail("set format");
        archive_write_set_bytes_per_block(a_, 64 * 1024);
        archive_write_set_bytes_in_last_block(a_, 1);
        if (archive_write_open2(a_, this, nullptr, &TarWriter::on_write, nullptr, nullptr) !=
            ARCHIVE_OK)
            fail("open");
    }
    ~TarWriter() {
        if (e_) archive_entry_free(e_);
        if (a_) archive_write_free(a_);
    }

    void dir(const std::string& name) { header(name, AE_IFDIR, 0755, 0); }

    void file(const std::string& name, std::string_view data) {
        header(name, AE_IFREG, 0644, data.size());
        write(data.data(), data.size());
    }

    // Copies a blob, hashing it on the way: a store blob that rotted is
    // caught here rather than shipped.
    void blob(const ContentStore& store, const Digest& d) {
        auto fd = store.open(d);
        uint64_t size = store.size(d);
        header("blobs/sha256/" + d.hex, AE_IFREG, 0644, size);
        Sha256 hash;
        ReadBuffer buf(1 << 20);
        uint64_t total = 0;
        for (;;) {
            ssize_t n = ::read(fd.get(), buf.data(), buf.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                throw system_error("read", store.blob_path(d).string());
            }
            if (n == 0) break;
            hash.update(buf.data(), static_cast<size_t>(n));
            write(buf.data(), static_cast<size_t>(n));
            total += static_cast<uint64_t>(n);
        }
        if (total != size || hash.finish() != d)
            throw Error(
                ErrorKind::kCorrupt,
                fmt::format("blob {} in the store is corrupt (run `strata store check`)", d.str()));
    }

    void close() {
        if (archive_write_close(a_) != ARCHIVE_OK) fail("close");
    }

  private:
    void header(const std::string& name, unsigned type, unsigned mode, uint64_t size) {
        archive_entry_clear(e_);
        archive_entry_set_pathname(e_, name.c_str());
        archive_entry_set_filetype(e_, type);
        archive_entry_set_perm(e_, mode);
        archive_entry_set_size(e_, static_cast<la_int64_t>(size));
        archive_entry_set_uid(e_, 0);
        archive_entry_set_gid(e_, 0);
        archive_entry_set_mtime(e_, 0, 0);
        if (archive_write_header(a_, e_) != ARCHIVE_OK) fail("header of " + name);
    }

    void write(const void* data, size_t n) {
        const char* p = static_cast<const char*>(data);
        while (n > 0) {
            la_ssize_t w = archive_write_data(a_, p, n);
            if (w < 0) fail("data");
            p += w;
            n -= static_cast<size_t>(w);
        }
    }

    static la_ssize_t on_write(struct archive*, void* ctx, const void* data, size_t n) {
        auto* self = static_cast<TarWriter*>(ctx);
        try {
            self->sink_(data, n);
            return static_cast<la_ssize_t>(n);
        } catch (...) {
            self->error_ = std::current_exception();
            return -1;
        }
    }

    [[noreturn]] void fail(const std::string& what) {
        if (error_) std::rethrow_exception(error_);
        const char* msg = archive_error_string(a_);
        throw Error(ErrorKind::kInternal,
                    fmt::format("writing the image archive: {}: {}", what, msg ? msg : "failed"));
    }

    const ByteSink& sink_;
    struct archive* a_ = nullptr;
    struct archive_entry* e_ = nullptr;
    std::exception_ptr error_;
};

}  // namespace

void write_archive(ImageStore& store, const std::vector<SaveEntry>& images_in, const ByteSink& out,
                   const ExportOptions& opts) {
    // The compressed copies are blobs no image refers to: keep prune away
    // until they are in the archive.
    LockFile lease = store.lease();
    std::vector<SaveEntry> images = images_in;
    for (auto& entry : images)
        entry.image = export_image(store, entry.image, opts);
    std::set<Digest> blobs;
    Index index;
    json manifest_json = json::array();
    json repositories = json::object();
    for (const auto& entry : images) {
        const ImageRecord& img = entry.image;
        for (const auto& d : img.blobs())
            blobs.insert(d);
        ImageConfig config = store.config(img);

        Descriptor desc;
        desc.media_type = img.manifest_media_type;
        desc.digest = img.manifest;
        desc.size = static_cast<int64_t>(img.manifest_size);
        desc.platform = Platform{config.architecture, config.os, config.variant, {}, {}};
        if (entry.names.empty()) index.manifests.push_back(desc);
        json repo_tags = json::array();
        for (const auto& name : entry.names) {
            Descriptor named = desc;
            named.annotations = name_annotations(name);
            index.manifests.push_back(std::move(named));
            repo_tags.push_back(name.familiar());
            if (!img.layers.empty())
                repositories[name.familiar_repository()][name.tag] = img.layers.back().digest.hex;
        }
        json layers = json::array();
        for (const auto& l : img.layers)
            layers.push_back("blobs/sha256/" + l.digest.hex);
        manifest_json.push_back({{"Config", "blobs/sha256/" + img.config.hex},
                                 {"RepoTags", entry.names.empty() ? json(nullptr) : repo_tags},
                                 {"Layers", std::move(layers)}});
    }

    TarWriter tar(out);
    tar.dir("blobs/");
    tar.dir("blobs/sha256/");
    for (const auto& d : blobs)
        tar.blob(store.content(), d);  // sorted by hex
    tar.file("index.json", index.canonical());
    tar.file("manifest.json", canonical_json(manifest_json) + "\n");
    tar.file("oci-layout", oci_layout_json());
    if (!repositories.empty()) tar.file("repositories", canonical_json(repositories) + "\n");
    tar.close();
}

}  // namespace strata::store
