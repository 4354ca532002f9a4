#include "store/image_store.hpp"

#include <dirent.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "store/canonical_json.hpp"
#include "store/image_config_time.hpp"
#include "store/image_store_io.hpp"
#include "store/store_root.hpp"

namespace strata::store {

namespace fs = std::filesystem;

namespace {

void make_dir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw system_error("create directory", dir.string(), ec.value());
}

}  // namespace

std::string short_id(const Digest& id) {
    return id.hex.substr(0, 12);
}

ImageStore::ImageStore(fs::path root, LayerStoreOptions layer_options) : root_(std::move(root)) {
    root_warning_ = prepare_store_root(root_);  // 0700, checked: store_root.hpp
    make_dir(images_dir());
    content_ = std::make_unique<ContentStore>(root_);
    layers_ = std::make_unique<LayerStore>(root_, *content_, layer_options);
}

LockFile ImageStore::lease() const {
    return LockFile::shared(root_ / "gc.lock");
}
LockFile ImageStore::gc_exclusive() const {
    return LockFile::exclusive(root_ / "gc.lock");
}

fs::path ImageStore::record_path(const Digest& manifest) const {
    if (manifest.algorithm != "sha256" || manifest.hex.size() != 64)
        throw Error(ErrorKind::kParse, "unsupported manifest digest '" + manifest.str() + "'");
    return images_dir() / (manifest.hex + ".json");
}

AtomicFile ImageStore::prepare_record(const ImageRecord& record) const {
    AtomicFile f(record_path(record.manifest));
    f.write(canonical_json(record.to_json()) + "\n");
    f.sync();
    return f;
}

void ImageStore::delete_record(const Digest& manifest) {
    auto path = record_path(manifest);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw system_error("remove", path.string());
    fsync_dir(images_dir());
}

// --- reads -------------------------------------------------------------------

std::optional<ImageRecord> ImageStore::image(const Digest& manifest) const {
    auto path = record_path(manifest);
    auto text = read_file_if_exists(path);
    if (!text) return std::nullopt;
    auto rec = ImageRecord::from_json(*text, path.string());
    if (rec.manifest != manifest)
        throw Error(ErrorKind::kCorrupt,
                    fmt::format("{}: record is for {}", path.string(), rec.manifest.str()));
    return rec;
}

std::vector<ImageRecord> ImageStore::images(std::vector<std::string>* problems) const {
    std::vector<ImageRecord> out;
    std::vector<std::string> files;
    {
        std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(images_dir().c_str()), ::closedir);
        if (!dir) throw system_error("open directory", images_dir().string());
        while (struct dirent* e = ::readdir(dir.get())) {
            std::string name = e->d_name;
            // Skips "." and "..", and AtomicFile's temp files ".<name>.tmpXXXXXX".
            if (name.empty() || name[0] == '.') continue;
            files.push_back(std::move(name));
        }
    }
    std::sort(files.begin(), files.end());
    for (const auto& name : files) {
        fs::path path = images_dir() / name;
        try {
            constexpr std::string_view ext = ".json";
            auto digest =
                name.size() > ext.size() && name.ends_with(ext)
                    ? Digest::try_parse("sha256:" + name.substr(0, name.size() - ext.size()))
                    : std::nullopt;
            if (!digest)
                throw Error(ErrorKind::kCorrupt,
                            fmt::format("{}: not an image record name", path.string()));
            auto text = read_file_if_exists(path);
            if (!text) continue;  // removed meanwhile
            auto rec = ImageRecord::from_json(*text, path.string());
            if (rec.manifest != *digest)
                throw Error(ErrorKind::kCorrupt,
                            fmt::format("{}: record is for {}", path.string(), rec.manifest.str()));
            out.push_back(std::move(rec));
        } catch (const Error& e) {
            if (!problems) throw;
            problems->push_back(e.what());
        }
    }
    return out;
}

NameIndex ImageStore::names() const {
    return NameIndex::load(names_file());
}

ImageMatch ImageStore::lookup(std::string_view text) const {
    // Names and digest references need one record, not all of them (a build
    // resolves its FROM images this way, and a store may hold thousands).
    if (text.substr(0, 7) != "sha256:") {
        if (auto ref = Reference::try_parse(text)) {
            if (ref->digest) {
                if (auto r = image(*ref->digest)) return ImageMatch{*r, std::nullopt, false};
            } else {
                const auto tagged = ref->with_default_tag();
                if (auto d = names().get(tagged)) {
                    if (auto r = image(*d)) return ImageMatch{*r, tagged, false};
                }
            }
        }
    }
    return lookup(text, names(), images());
}

ImageMatch ImageStore::lookup(std::string_view text, const NameIndex& names,
                              const std::vector<ImageRecord>& images) const {
    auto not_found = [&]() {
        return Error(ErrorKind::kNotFound, fmt::format("No such image: {}", text));
    };
    auto by_manifest = [&](const Digest& d) -> const ImageRecord* {
        for (const auto& r : images)
            if (r.manifest == d) return &r;
        return nullptr;
    };
    // Several records can share a config (the same image stored with two
    // manifests, e.g. loaded once from a docker-save tarball and once from an
    // OCI archive): prefer a named one, then the newest.
    auto by_config = [&](auto&& pred) -> std::vector<const ImageRecord*> {
        std::vector<const ImageRecord*> out;
        for (const auto& r : images)
            if (pred(r.config)) out.push_back(&r);
        std::sort(out.begin(), out.end(), [&](const ImageRecord* a, const ImageRecord* b) {
            bool an = !names.names_of(a->manifest).empty();
            bool bn = !names.names_of(b->manifest).empty();
            if (an != bn) return an;
            return a->added > b->added;
        });
        return out;
    };

    if (text.substr(0, 7) == "sha256:") {
        auto d = Digest::try_parse(text);
        if (!d) {
            if (!looks_like_id(text)) throw not_found();
        } else {
            if (auto* r = by_manifest(*d)) return ImageMatch{*r, std::nullopt, false};
            auto cs = by_config([&](const Digest& c) { return c == *d; });
            if (!cs.empty()) return ImageMatch{*cs.front(), std::nullopt, true};
            throw not_found();
        }
    } else if (auto ref = Reference::try_parse(text)) {
        if (ref->digest) {
            if (auto* r = by_manifest(*ref->digest)) return ImageMatch{*r, std::nullopt, false};
            throw not_found();
        }
        auto tagged = ref->with_default_tag();
        if (auto d = names.get(tagged)) {
            if (auto* r = by_manifest(*d)) return ImageMatch{*r, tagged, false};
            throw Error(ErrorKind::kCorrupt,
                        fmt::format("{} points at {}, which has no image record (run `strata store "
                                    "check`)",
                                    tagged.familiar(), d->str()));
        }
    }
    if (looks_like_id(text)) {
        std::string prefix(text.substr(0, 7) == "sha256:" ? text.substr(7) : text);
        auto cs = by_config(
            [&](const Digest& c) { return c.hex.compare(0, prefix.size(), prefix) == 0; });
        std::set<Digest> distinct;
        for (auto* r : cs)
            distinct.insert(r->config);
        if (distinct.size() > 1)
            throw Error(ErrorKind::kConflict,
                        fmt::format("multiple IDs found with provided prefix: {}", text));
        if (!cs.empty()) return ImageMatch{*cs.front(), std::nullopt, true};
    }
    throw not_found();
}

std::string ImageStore::config_json(const ImageRecord& image) const {
    return content_->read(image.config);
}

ImageConfig ImageStore::config(const ImageRecord& image) const {
    return ImageConfig::parse(config_json(image), "config " + image.config.str());
}

Manifest ImageStore::manifest(const ImageRecord& image) const {
    return Manifest::parse(content_->read(image.manifest), "manifest " + image.manifest.str());
}

// --- making images -----------------------------------------------------------

ImageRecord ImageStore::write_image(const ImageConfig& config_in,
                                    const std::vector<LayerRecord>& layers,
                                    const std::map<std::string, std::string>& annotations) {
    ImageConfig config = config_in;
    if (config.diff_ids.empty()) {
        for (const auto& l : layers)
            config.diff_ids.push_back(l.diff_id);
    } else {
        bool same = config.diff_ids.size() == layers.size();
        for (size_t i = 0; same && i < layers.size(); ++i)
            same = config.diff_ids[i] == layers[i].diff_id;
        if (!same)
            throw Error(ErrorKind::kInternal,
                        "write_image: config rootfs.diff_ids do not match the layers");
    }
    std::string config_text = config.canonical();
    Manifest m;
    m.media_type = std::string(media_type::kOciManifest);
    m.config.media_type = std::string(media_type::kOciConfig);
    m.config.digest = sha256_of(config_text);
    m.config.size = static_cast<int64_t>(config_text.size());
    for (const auto& l : layers) {
        if (!content_->has(l.digest))
            throw Error(
                ErrorKind::kNotFound,
                fmt::format("write_image: layer blob {} is not in the store", l.digest.str()));
        Descriptor d;
        d.media_type = l.media_type;
        d.digest = l.digest;
        d.size = static_cast<int64_t>(l.size);
        m.layers.push_back(std::move(d));
    }
    m.annotations = annotations;
    std::string manifest_text = m.canonical();

    ImageRecord rec;
    // Both blobs written and fsynced at once (parallel fsyncs share a cache
    // flush); their renames become durable with the record that names them
    // (Transaction::commit).
    {
        TaskGroup group;
        group.submit([&] { content_->put(config_text, ContentStore::DirSync::kDeferred); });
        rec.manifest = content_->put(manifest_text, ContentStore::DirSync::kDeferred);
        group.wait();
    }
    rec.manifest_media_type = m.media_type;
    rec.manifest_size = manifest_text.size();
    rec.config = m.config.digest;
    rec.config_size = config_text.size();
    rec.layers = layers;
    rec.created = config.created.value_or("");
    rec.added = format_timestamp(now_timestamp());
    return rec;
}

ImageRecord ImageStore::record_for_manifest(const Digest& manifest_digest,
                                            const std::vector<LayerRecord>& layers) const {
    std::string what = "manifest " + manifest_digest.str();
    std::string manifest_text = content_->read(manifest_digest);
    Manifest m = Manifest::parse(manifest_text, what);
    std::string config_text = content_->read(m.config.digest);
    ImageConfig config = ImageConfig::parse(config_text, "config " + m.config.digest.str());
    if (m.layers.size() != config.diff_ids.size() || m.layers.size() != layers.size())
        throw Error(ErrorKind::kCorrupt,
                    fmt::format("{}: {} layers, but the config lists {} diffIDs", what,
                                m.layers.size(), config.diff_ids.size()));
    ImageRecord rec;
    rec.manifest = manifest_digest;
    rec.manifest_media_type =
        m.media_type.empty() ? std::string(media_type::kOciManifest) : m.media_type;
    rec.manifest_size = manifest_text.size();
    rec.config = m.config.digest;
    rec.config_size = config_text.size();
    for (size_t i = 0; i < m.layers.size(); ++i) {
        const auto& desc = m.layers[i];
        if (layers[i].digest != desc.digest || layers[i].diff_id != config.diff_ids[i])
            throw Error(ErrorKind::kCorrupt,
                        fmt::format("{}: layer {} ({}) does not match its diffID {}", what, i,
                                    desc.digest.str(), config.diff_ids[i].str()));
        LayerRecord l = layers[i];
        l.media_type = desc.media_type;
        l.size = static_cast<uint64_t>(desc.size);
        rec.layers.push_back(std::move(l));
    }
    rec.created = config.created.value_or("");
    rec.added = format_timestamp(now_timestamp());
    return rec;
}

// --- transactions ------------------------------------------------------------

ImageStore::Transaction ImageStore::begin() {
    return Transaction(*this, LockFile::exclusive(root_ / "lock"));
}

ImageStore::Transaction::Transaction(ImageStore& store, LockFile lock)
    : store_(&store), lock_(std::move(lock)), names_(store.names()) {}

ImageStore::Transaction::Transaction(Transaction&&) noexcept = default;
ImageStore::Transaction::~Transaction() = default;

std::optional<ImageRecord> ImageStore::Transaction::image(const Digest& manifest) const {
    if (removes_.count(manifest)) return std::nullopt;
    if (auto it = puts_.find(manifest); it != puts_.end()) return it->second;
    return store_->image(manifest);
}

std::vector<ImageRecord> ImageStore::Transaction::images() const {
    std::vector<ImageRecord> out;
    for (auto& r : store_->images())
        if (!removes_.count(r.manifest) && !puts_.count(r.manifest)) out.push_back(std::move(r));
    for (const auto& [d, r] : puts_)
        out.push_back(r);
    std::sort(out.begin(), out.end(),
              [](const ImageRecord& a, const ImageRecord& b) { return a.manifest < b.manifest; });
    return out;
}

void ImageStore::Transaction::put_image(const ImageRecord& record) {
    removes_.erase(record.manifest);
    puts_[record.manifest] = record;
}

std::optional<Digest> ImageStore::Transaction::tag(const Reference& name, const Digest& manifest) {
    if (!image(manifest))
        throw Error(ErrorKind::kNotFound, fmt::format("No such image: {}", manifest.str()));
    Reference tagged = name.with_default_tag();
    if (tagged.digest)
        throw Error(
            ErrorKind::kUsage,
            fmt::format("refusing to create a tag with a digest reference: {}", name.familiar()));
    names_dirty_ = true;
    return names_.set(tagged, manifest, format_timestamp(now_timestamp()));
}

bool ImageStore::Transaction::untag(const Reference& name) {
    bool removed = names_.remove(name.with_default_tag());
    names_dirty_ |= removed;
    return removed;
}

void ImageStore::Transaction::remove_image(const Digest& manifest) {
    for (const auto& n : names_.names_of(manifest))
        untag(n);
    puts_.erase(manifest);
    removes_.insert(manifest);
}

void ImageStore::Transaction::commit() {
    if (done_) throw Error(ErrorKind::kInternal, "Transaction::commit called twice");
    done_ = true;
    // Durable in this order, each by a directory fsync after the one before:
    // the renames of the blobs the records name (DirSync::kDeferred: a
    // build's layers, its config and manifest, by this process or another),
    // the records, the names. The record and name files' own fsyncs run
    // beside the first (each fsync is a cache flush, ~0.2 ms here, and
    // several at once share one): four flushes in a row instead of seven.
    std::vector<AtomicFile> records;
    std::optional<AtomicFile> names;
    {
        TaskGroup group;  // its tasks run here in wait() when no worker is free
        if (!puts_.empty())
            group.submit([this, &records] {
                for (const auto& [d, r] : puts_)
                    records.push_back(store_->prepare_record(r));
            });
        if (names_dirty_)
            group.submit([this, &names] {
                AtomicFile f(store_->names_file());
                f.write(names_.serialize());
                f.sync();
                names.emplace(std::move(f));
            });
        if (!puts_.empty()) store_->content().sync_renames();
        group.wait();
    }
    for (auto& f : records)
        f.commit_deferring_dir_sync();
    if (!records.empty()) fsync_dir(store_->images_dir());
    if (names) names->commit();
    for (const auto& d : removes_)
        store_->delete_record(d);
    LockFile release = std::move(lock_);
}

}  // namespace strata::store
