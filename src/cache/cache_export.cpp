#include "cache/cache_export.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "store/canonical_json.hpp"
#include "store/image_store_io.hpp"
#include "store/image_store_scan.hpp"
#include "store/manifest.hpp"
#include "store/oci_layout.hpp"

namespace strata::cache {

namespace {

using nlohmann::json;

[[noreturn]] void malformed(std::string_view what, const std::string& why) {
    throw Error(ErrorKind::kParse,
                fmt::format("build cache {}: {} (export it again with --cache-to)", what, why));
}

bool is_hex64(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

}  // namespace

CacheArtifact make_cache_artifact(const CacheExport& exported) {
    std::vector<CacheEntry> entries = exported.entries;
    std::sort(entries.begin(), entries.end(),
              [](const CacheEntry& a, const CacheEntry& b) { return a.key < b.key; });
    entries.erase(
        std::unique(entries.begin(), entries.end(),
                    [](const CacheEntry& a, const CacheEntry& b) { return a.key == b.key; }),
        entries.end());

    CacheArtifact art;
    std::map<store::Digest, size_t> index;
    for (const auto& e : entries)
        if (e.layer) index.emplace(e.layer->digest, 0);
    for (auto& [digest, i] : index) {
        i = art.layers.size();
        for (const auto& e : entries)
            if (e.layer && e.layer->digest == digest) {
                art.layers.push_back(*e.layer);
                break;
            }
    }

    json layers = json::array();
    for (const auto& l : art.layers)
        layers.push_back(store::layer_record_to_json(l));
    json jentries = json::array();
    for (const auto& e : entries) {
        json j{{"key", e.key}, {"created", e.created}, {"description", e.description}};
        j["layer"] = e.layer ? json(index.at(e.layer->digest)) : json(nullptr);
        jentries.push_back(std::move(j));
    }
    json memos = json::array();
    for (const auto& [input, value] : exported.memos)
        memos.push_back(json{{"input", input}, {"value", value}});
    art.config = store::canonical_json(json{{"version", kCacheFormatVersion},
                                            {"layers", std::move(layers)},
                                            {"entries", std::move(jentries)},
                                            {"memos", std::move(memos)}});

    store::Manifest m;
    m.artifact_type = std::string(kCacheArtifactType);
    m.config.media_type = std::string(kCacheConfigMediaType);
    m.config.digest = store::sha256_of(art.config);
    m.config.size = static_cast<int64_t>(art.config.size());
    for (const auto& l : art.layers) {
        store::Descriptor d;
        d.media_type = l.media_type;
        d.digest = l.digest;
        d.size = static_cast<int64_t>(l.size);
        m.layers.push_back(std::move(d));
    }
    art.manifest = m.canonical();
    return art;
}

CacheExport parse_cache_artifact(std::string_view manifest_text, std::string_view config,
                                 std::string_view what) {
    store::Manifest m;
    try {
        m = store::Manifest::parse(manifest_text, fmt::format("build cache {}", what));
    } catch (const Error& e) {
        malformed(what, e.what());
    }
    if (m.config.media_type != kCacheConfigMediaType)
        malformed(what, fmt::format("the manifest's config is {}, not a strata build cache ({})",
                                    m.config.media_type.empty() ? "untyped" : m.config.media_type,
                                    kCacheConfigMediaType));
    if (m.config.digest != store::sha256_of(config) ||
        m.config.size != static_cast<int64_t>(config.size()))
        malformed(what, "the config does not match the manifest's digest and size");

    CacheExport out;
    try {
        const json j = store::parse_json(config, fmt::format("build cache {} config", what));
        if (!j.is_object() || j.value("version", 0) != kCacheFormatVersion)
            malformed(what, fmt::format("the config is not version {}", kCacheFormatVersion));
        std::vector<store::LayerRecord> layers;
        for (const auto& l : j.at("layers"))
            layers.push_back(store::layer_record_from_json(l));
        if (layers.size() != m.layers.size())
            malformed(what, fmt::format("the config lists {} layers, the manifest {}",
                                        layers.size(), m.layers.size()));
        for (size_t i = 0; i < layers.size(); ++i)
            if (layers[i].digest != m.layers[i].digest ||
                static_cast<int64_t>(layers[i].size) != m.layers[i].size)
                malformed(what,
                          fmt::format("layer {} differs between the config and the manifest", i));
        for (const auto& je : j.at("entries")) {
            CacheEntry e;
            e.key = je.at("key").get<std::string>();
            if (!store::Digest::try_parse(e.key))
                malformed(what, fmt::format("cache key {:?} is not a digest", e.key));
            e.created = je.at("created").get<std::string>();
            e.description = je.value("description", std::string());
            const json& li = je.at("layer");
            if (!li.is_null()) {
                if (!li.is_number_unsigned() || li.get<uint64_t>() >= layers.size())
                    malformed(what, fmt::format("entry {} names layer {}, and there are {}", e.key,
                                                li.dump(), layers.size()));
                e.layer = layers[li.get<size_t>()];
            }
            out.entries.push_back(std::move(e));
        }
        if (j.contains("memos"))
            for (const auto& jm : j.at("memos")) {
                std::string input = jm.at("input").get<std::string>();
                if (!is_hex64(input))
                    malformed(what, fmt::format("memo {:?} is not a sha256 hex", input));
                out.memos.emplace(std::move(input), jm.at("value").get<std::string>());
            }
    } catch (const json::exception& e) {
        malformed(what, fmt::format("malformed config: {}", e.what()));
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::kParse && std::string_view(e.what()).starts_with("build cache"))
            throw;
        malformed(what, e.what());
    }
    return out;
}

// --- ImportedCache -----------------------------------------------------------

void ImportedCache::add(CacheExport exported, std::shared_ptr<CacheBlobSource> source) {
    std::lock_guard lock(mu_);
    for (auto& e : exported.entries) {
        if (e.layer) sources_.emplace(e.layer->digest, source);
        entries_.emplace(e.key, std::move(e));  // the first --cache-from wins
    }
    for (auto& [k, v] : exported.memos)
        memos_.emplace(k, std::move(v));
}

std::optional<CacheEntry> ImportedCache::get(std::string_view key) const {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
}

void ImportedCache::provide(const std::vector<store::LayerRecord>& layers,
                            store::ContentStore& blobs) {
    // One fetch at a time: simple, and a blob two stages want is fetched once.
    std::lock_guard fetching(fetch_mu_);
    for (const auto& l : layers) {
        if (blobs.has(l.digest)) continue;
        std::shared_ptr<CacheBlobSource> source;
        {
            std::lock_guard lock(mu_);
            auto it = sources_.find(l.digest);
            if (it == sources_.end()) continue;
            source = it->second;
        }
        const std::string what =
            fmt::format("layer {} from the build cache in {}", l.digest.str(), source->name());
        source->fetch(l, blobs);
        if (const uint64_t got = blobs.size(l.digest); got != l.size) {
            blobs.remove(l.digest);
            throw Error(ErrorKind::kCorrupt,
                        fmt::format("{}: {} bytes, the cache says {}", what, got, l.size));
        }
        const store::LayerScan scan = store::scan_layer_blob(blobs, l.digest, what);
        if (scan.diff_id != l.diff_id) {
            blobs.remove(l.digest);
            throw Error(ErrorKind::kCorrupt,
                        fmt::format("{}: its diffID is {}, the cache says {}; the cache is wrong "
                                    "(build without this --cache-from, or export it again)",
                                    what, scan.diff_id.str(), l.diff_id.str()));
        }
        std::lock_guard lock(mu_);
        fetched_.insert(l.digest);
    }
}

bool ImportedCache::has_source(const store::Digest& blob) const {
    std::lock_guard lock(mu_);
    return sources_.contains(blob);
}

std::vector<store::Digest> ImportedCache::fetched() const {
    std::lock_guard lock(mu_);
    return {fetched_.begin(), fetched_.end()};
}

// --- OCI layout --------------------------------------------------------------

namespace {

std::filesystem::path blob_file(const std::filesystem::path& dir, const store::Digest& d) {
    return dir / "blobs" / "sha256" / d.hex;
}

void copy_blob_in(const std::filesystem::path& dir, const store::ContentStore& blobs,
                  const store::Digest& d) {
    std::error_code ec;
    const auto target = blob_file(dir, d);
    if (std::filesystem::file_size(target, ec) == blobs.size(d)) return;
    const auto tmp = target.string() + ".tmp";
    std::filesystem::copy_file(blobs.blob_path(d), tmp,
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec)
        throw Error(
            ErrorKind::kSystem,
            fmt::format("copy {} to {}: {}", blobs.blob_path(d).string(), tmp, ec.message()));
    std::filesystem::rename(tmp, target, ec);
    if (ec)
        throw Error(ErrorKind::kSystem,
                    fmt::format("rename {} to {}: {}", tmp, target.string(), ec.message()));
}

class LayoutBlobSource : public CacheBlobSource {
  public:
    explicit LayoutBlobSource(std::filesystem::path dir) : dir_(std::move(dir)) {}
    std::string name() const override { return "directory " + dir_.string(); }
    void fetch(const store::LayerRecord& layer, store::ContentStore& blobs) override {
        const auto path = blob_file(dir_, layer.digest);
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd)
            throw system_error("open the build cache blob",
                               path.string() + " (the cache directory lost it: export it again)");
        blobs.put_fd(fd.get(), layer.digest);  // Error(kCorrupt) on a wrong digest
    }

  private:
    std::filesystem::path dir_;
};

}  // namespace

void write_cache_layout(const std::filesystem::path& dir, const CacheArtifact& art,
                        const store::ContentStore& blobs) {
    std::error_code ec;
    std::filesystem::create_directories(dir / "blobs" / "sha256", ec);
    if (ec)
        throw Error(ErrorKind::kSystem,
                    fmt::format("create the cache directory {}: {}", dir.string(), ec.message()));
    std::set<std::string> keep;
    for (const auto& l : art.layers) {
        copy_blob_in(dir, blobs, l.digest);
        keep.insert(l.digest.hex);
    }
    const store::Digest config = store::sha256_of(art.config);
    const store::Digest manifest = store::sha256_of(art.manifest);
    write_file_atomic(blob_file(dir, config), art.config);
    write_file_atomic(blob_file(dir, manifest), art.manifest);
    keep.insert(config.hex);
    keep.insert(manifest.hex);

    store::Index index;
    store::Descriptor d;
    d.media_type = std::string(store::media_type::kOciManifest);
    d.digest = manifest;
    d.size = static_cast<int64_t>(art.manifest.size());
    d.artifact_type = std::string(kCacheArtifactType);
    index.manifests.push_back(std::move(d));
    write_file_atomic(dir / std::string(store::kOciLayoutFile), store::oci_layout_json());
    write_file_atomic(dir / std::string(store::kOciIndexFile), index.canonical());

    // Blobs of an earlier export that this one no longer names.
    for (auto it = std::filesystem::directory_iterator(dir / "blobs" / "sha256", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (!keep.contains(it->path().filename().string())) std::filesystem::remove(it->path(), ec);
    }
}

CacheExport read_cache_layout(const std::filesystem::path& dir) {
    const std::string what = "directory " + dir.string();
    const auto layout = store::read_file_if_exists(dir / std::string(store::kOciLayoutFile));
    if (!layout)
        throw Error(ErrorKind::kNotFound,
                    fmt::format("build cache {}: no {} file (not an OCI layout; was it written "
                                "with --cache-to type=local,dest=...?)",
                                what, store::kOciLayoutFile));
    store::Index index;
    try {
        store::check_oci_layout(*layout, what);
        index = store::Index::parse(store::read_whole_file(dir / std::string(store::kOciIndexFile)),
                                    what + " index.json");
    } catch (const Error& e) {
        malformed(what, e.what());
    }
    const store::Descriptor* pick = nullptr;
    for (const auto& d : index.manifests)
        if (d.artifact_type == kCacheArtifactType && !pick) pick = &d;
    if (!pick && index.manifests.size() == 1) pick = &index.manifests.front();
    if (!pick) malformed(what, "index.json names no strata build cache");
    auto read_blob = [&](const store::Descriptor& d) {
        auto text = store::read_file_if_exists(blob_file(dir, d.digest));
        if (!text || static_cast<int64_t>(text->size()) != d.size ||
            store::sha256_of(*text) != d.digest)
            malformed(what, fmt::format("blob {} is missing or does not match its digest",
                                        d.digest.str()));
        return *text;
    };
    if (pick->size > (16 << 20)) malformed(what, "the manifest is larger than 16 MiB");
    const std::string manifest = read_blob(*pick);
    store::Manifest m;
    try {
        m = store::Manifest::parse(manifest, what);
    } catch (const Error& e) {
        malformed(what, e.what());
    }
    if (m.config.size > (64 << 20)) malformed(what, "the config is larger than 64 MiB");
    return parse_cache_artifact(manifest, read_blob(m.config), what);
}

std::shared_ptr<CacheBlobSource> layout_blob_source(const std::filesystem::path& dir) {
    return std::make_shared<LayoutBlobSource>(dir);
}

}  // namespace strata::cache
