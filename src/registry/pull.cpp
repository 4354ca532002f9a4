#include "registry/pull.hpp"

#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/error.hpp"
#include "registry/parallel.hpp"
#include "registry/platform_select.hpp"
#include "store/compression.hpp"
#include "store/image_config.hpp"

namespace strata::registry {
namespace {

using store::Digest;

[[noreturn]] void corrupt(const std::string& msg) {
    throw Error(ErrorKind::kCorrupt, msg);
}

// The manifest `reference` names, checked against `expected` (a digest the
// reference or an index gave) — a registry may not answer with other bytes.
FetchedManifest fetch_manifest(ImageSource& source, const std::string& reference,
                               const std::optional<store::Descriptor>& expected,
                               const std::string& what) {
    FetchedManifest m = source.manifest(reference);
    m.digest = store::sha256_of(m.bytes);
    if (expected) {
        if (m.digest != expected->digest)
            corrupt(fmt::format("{}: the registry sent a manifest with digest {}, expected {}",
                                what, m.digest.str(), expected->digest.str()));
        if (expected->size > 0 && static_cast<int64_t>(m.bytes.size()) != expected->size)
            corrupt(fmt::format("{}: manifest {} is {} bytes, the index says {}", what,
                                m.digest.str(), m.bytes.size(), expected->size));
    }
    return m;
}

void check_not_schema1(const std::string& bytes, const std::string& what) {
    try {
        const auto j = nlohmann::json::parse(bytes);
        if (j.is_object() && j.value("schemaVersion", 0) == 1)
            throw Error(ErrorKind::kParse,
                        what +
                            " is a Docker Image manifest version 2, schema 1, which strata "
                            "does not support (nor does Docker since 28): push the image again "
                            "with a current client");
    } catch (const nlohmann::json::exception&) {
        throw Error(ErrorKind::kParse, what + ": the registry's manifest is not JSON");
    }
}

// A blob downloaded into the content store, its size and digest checked.
Digest download_blob(store::ImageStore& store, ImageSource& source, const store::Descriptor& d,
                     const std::string& what,
                     const std::function<void(int64_t)>& on_bytes = nullptr) {
    // Hashed once: by the source when it checks digests itself.
    auto w =
        source.verifies_blobs() ? store.content().prehashed_writer() : store.content().writer();
    int64_t got = 0;
    source.blob(d.digest, d.size, [&](const char* data, size_t n) {
        got += static_cast<int64_t>(n);
        if (got > d.size)
            corrupt(fmt::format("{}: the registry sent more than the {} bytes of {}", what, d.size,
                                d.digest.str()));
        w.write(data, n);
        if (on_bytes) on_bytes(got);
    });
    if (got != d.size)
        corrupt(fmt::format("{}: the registry sent {} bytes of {}, expected {}", what, got,
                            d.digest.str(), d.size));
    try {
        return w.commit(d.digest);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::kCorrupt) throw;
        corrupt(fmt::format("{}: {} failed verification: the registry sent other bytes ({})", what,
                            d.digest.str(), e.what()));
    }
}

void check_layer_media_type(const store::Descriptor& l, const std::string& what) {
    if (!l.urls.empty() || l.media_type.find("foreign") != std::string::npos ||
        l.media_type.find("nondistributable") != std::string::npos)
        throw Error(ErrorKind::kUsage,
                    fmt::format("{}: layer {} is a foreign layer (media type {}), which strata "
                                "does not pull",
                                what, l.digest.str(), l.media_type));
    if (!store::compression_from_media_type(l.media_type))
        throw Error(ErrorKind::kParse,
                    fmt::format("{}: layer {} has media type \"{}\", not an image layer", what,
                                l.digest.str(), l.media_type));
}

class Progress {
  public:
    explicit Progress(const std::function<void(const PullEvent&)>& f) : f_(f) {}
    void operator()(PullEvent e) {
        if (!f_) return;
        std::lock_guard lock(mu_);
        f_(e);
    }

  private:
    const std::function<void(const PullEvent&)>& f_;
    std::mutex mu_;
};

}  // namespace

PullResult pull_image(store::ImageStore& store, ImageSource& source, const store::Reference& ref_in,
                      const PullOptions& options) {
    const store::Reference ref = ref_in.digest ? ref_in : ref_in.with_default_tag();
    const std::string what = ref.familiar();
    const std::string reference = ref.digest ? ref.digest->str() : ref.tag;
    Progress progress(options.progress);
    auto lease = store.lease();

    std::optional<store::Descriptor> by_digest;
    if (ref.digest) {
        by_digest.emplace();
        by_digest->digest = *ref.digest;
    }
    FetchedManifest top = fetch_manifest(source, reference, by_digest, what);
    check_not_schema1(top.bytes, what);
    PullResult result;
    result.resolved = top.digest;
    progress({PullEvent::Kind::kResolved, "", 0, 0, top.digest});

    FetchedManifest chosen = top;
    if (store::document_kind(top.bytes, what) == store::DocumentKind::kIndex) {
        const store::Index index = store::Index::parse(top.bytes, what);
        const store::Descriptor d = select_manifest(index, options.platform);
        chosen = fetch_manifest(source, d.digest.str(), d, what);
        if (store::document_kind(chosen.bytes, what) != store::DocumentKind::kManifest)
            corrupt(what + ": the index names another index for " + d.platform->str());
    }
    const store::Manifest manifest = store::Manifest::parse(chosen.bytes, "manifest of " + what);
    if (!manifest.config.media_type.empty() &&
        !store::is_config_media_type(manifest.config.media_type))
        throw Error(ErrorKind::kUsage,
                    fmt::format("{} is not a container image (its config has media type {})", what,
                                manifest.config.media_type));
    for (const auto& l : manifest.layers)
        check_layer_media_type(l, what);

    // The config: small, fetched first (it lists the diffIDs to check).
    if (!store.content().has(manifest.config.digest))
        download_blob(store, source, manifest.config, what);
    const store::ImageConfig config = store::ImageConfig::parse(
        store.content().read(manifest.config.digest), "config of " + what);
    if (config.diff_ids.size() != manifest.layers.size())
        corrupt(fmt::format("{}: the manifest has {} layers, its config lists {} diffIDs", what,
                            manifest.layers.size(), config.diff_ids.size()));
    if (options.platform_given &&
        store::document_kind(top.bytes, what) == store::DocumentKind::kManifest) {
        store::Platform have;
        have.os = config.os;
        have.architecture = config.architecture;
        have.variant = config.variant;
        const store::Platform a = normalize_platform(have),
                              w = normalize_platform(options.platform);
        if (a.os != w.os || a.architecture != w.architecture ||
            (!w.variant.empty() && a.variant != w.variant))
            throw Error(ErrorKind::kNotFound,
                        fmt::format("image with reference {} was found but does not match the "
                                    "specified platform: wanted {}, actual: {}",
                                    what, w.str(), a.str()));
    }

    // Layers the store has already, by blob digest, with their diffIDs.
    std::map<Digest, store::LayerRecord> known;
    for (const auto& img : store.images())
        for (const auto& l : img.layers)
            known.emplace(l.digest, l);

    std::vector<store::LayerRecord> layers(manifest.layers.size());
    // "Pulling fs layer" for every layer to fetch, up front (docker's first
    // lines); "Pull complete" in layer order, as docker's extraction is.
    std::vector<char> fetched(layers.size(), 0), finished(layers.size(), 0);
    for (size_t i = 0; i < layers.size(); ++i) {
        const auto& l = manifest.layers[i];
        if (!store.content().has(l.digest)) {
            fetched[i] = 1;
            progress({PullEvent::Kind::kWaiting, l.digest.short_id(), 0, l.size, l.digest});
        }
    }
    std::mutex order_mu;
    size_t next_complete = 0;
    auto finish = [&](size_t i) {
        std::lock_guard lock(order_mu);
        finished[i] = 1;
        for (; next_complete < layers.size() && finished[next_complete]; ++next_complete) {
            const auto& l = manifest.layers[next_complete];
            if (fetched[next_complete])
                progress(
                    {PullEvent::Kind::kComplete, l.digest.short_id(), l.size, l.size, l.digest});
        }
    };
    std::atomic<uint64_t> downloaded{0};
    run_parallel(layers.size(), options.parallel, [&](size_t i) {
        const store::Descriptor& l = manifest.layers[i];
        const std::string id = l.digest.short_id();
        auto it = known.find(l.digest);
        if (it != known.end() && it->second.diff_id == config.diff_ids[i] &&
            store.content().has(l.digest)) {
            layers[i] = it->second;
            layers[i].media_type = l.media_type;
            progress({PullEvent::Kind::kAlreadyExists, id, 0, l.size, l.digest});
            finish(i);
            return;
        }
        const bool have = !fetched[i];  // in the store before the pull began
        if (!have) {
            // The blob is checked against its digest and size as it streams;
            // its content (paths, diffID) when first unpacked or measured
            // (ImageStore::measure), as containerd checks a pulled layer.
            download_blob(store, source, l, what, [&](int64_t done) {
                progress({PullEvent::Kind::kDownloading, id, done, l.size, l.digest});
            });
            downloaded += static_cast<uint64_t>(l.size);
            progress({PullEvent::Kind::kVerifying, id, l.size, l.size, l.digest});
        }
        layers[i] = store::LayerRecord{l.digest, config.diff_ids[i], static_cast<uint64_t>(l.size),
                                       l.media_type, std::nullopt};
        if (have) progress({PullEvent::Kind::kAlreadyExists, id, l.size, l.size, l.digest});
        finish(i);
    });
    result.downloaded = downloaded;

    // The manifest last, exactly as served: its digest is the image's.
    if (store.content().put(chosen.bytes) != chosen.digest)
        throw Error(ErrorKind::kInternal, what + ": the stored manifest changed its digest");
    store::ImageRecord record = store.record_for_manifest(chosen.digest, layers);
    auto txn = store.begin();
    result.newer = !txn.image(chosen.digest);
    txn.put_image(record);
    if (!ref.digest) {
        result.replaced = txn.tag(ref, chosen.digest);
        if (result.replaced && *result.replaced == chosen.digest) result.replaced.reset();
    }
    txn.commit();
    result.image = store.image(chosen.digest).value_or(record);
    return result;
}

}  // namespace strata::registry
