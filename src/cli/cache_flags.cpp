#include "cli/cache_flags.hpp"

#include <fmt/format.h>

#include <map>

#include "base/error.hpp"
#include "registry/cache_transport.hpp"
#include "store/compression.hpp"
#include "store/export_image.hpp"

namespace strata::cli {

namespace {

// "k=v,k=v" as buildx splits --cache-to/--cache-from; a value without '='
// is a registry ref.
std::map<std::string, std::string> split_attrs(std::string_view text, std::string_view flag) {
    std::map<std::string, std::string> out;
    if (text.find('=') == std::string_view::npos) {
        out["type"] = "registry";
        out["ref"] = std::string(text);
        return out;
    }
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t comma = text.find(',', pos);
        if (comma == std::string_view::npos) comma = text.size();
        const std::string_view part = text.substr(pos, comma - pos);
        const size_t eq = part.find('=');
        if (eq == std::string_view::npos || eq == 0)
            throw Error(ErrorKind::kUsage,
                        fmt::format("{} {}: expected KEY=VALUE, got {:?}", flag, text, part));
        out[std::string(part.substr(0, eq))] = std::string(part.substr(eq + 1));
        pos = comma + 1;
    }
    if (!out.contains("type")) out["type"] = "registry";
    return out;
}

store::Reference cache_ref(const std::string& text, std::string_view flag) {
    if (text.empty())
        throw Error(ErrorKind::kUsage,
                    fmt::format("{}: type=registry needs ref=HOST/REPO:TAG", flag));
    store::Reference r = store::Reference::parse(text);
    return r.with_default_tag();
}

[[noreturn]] void unknown(std::string_view flag, std::string_view key, std::string_view known) {
    throw Error(ErrorKind::kUsage,
                fmt::format("{}: unknown attribute {:?} (strata knows {})", flag, key, known));
}

class RegistryBlobs : public cache::CacheBlobSource {
  public:
    RegistryBlobs(RegistryClientFor clients, store::Reference ref)
        : clients_(std::move(clients)), ref_(std::move(ref)) {}
    std::string name() const override { return "registry " + ref_.str(); }
    void fetch(const store::LayerRecord& layer, store::ContentStore& blobs) override {
        registry::fetch_cache_blob(clients_(ref_.domain, false), ref_.path, layer, blobs);
    }

  private:
    RegistryClientFor clients_;
    store::Reference ref_;
};

}  // namespace

CacheToSpec parse_cache_to(std::string_view text) {
    const auto a = split_attrs(text, "--cache-to");
    CacheToSpec s;
    for (const auto& [k, v] : a) {
        if (k == "type") {
            if (v == "registry")
                s.type = CacheToSpec::Type::kRegistry;
            else if (v == "local")
                s.type = CacheToSpec::Type::kLocal;
            else
                throw Error(
                    ErrorKind::kUsage,
                    fmt::format("--cache-to: type={} is not supported (registry or local)", v));
        } else if (k == "mode") {
            if (v == "min")
                s.mode = executor::BuildRequest::CacheExportMode::kMin;
            else if (v == "max")
                s.mode = executor::BuildRequest::CacheExportMode::kMax;
            else
                throw Error(ErrorKind::kUsage, fmt::format("--cache-to: mode={} (min or max)", v));
        } else if (k == "compression") {
            s.compression = store::parse_compression(v);
        } else if (k == "ignore-error") {
            s.ignore_error = v == "true";
        } else if (k != "ref" && k != "dest") {
            unknown("--cache-to", k, "type, ref, dest, mode, compression, ignore-error");
        }
    }
    if (s.type == CacheToSpec::Type::kRegistry) {
        s.ref = cache_ref(a.contains("ref") ? a.at("ref") : "", "--cache-to");
        if (s.ref.digest)
            throw Error(ErrorKind::kUsage, "--cache-to: ref= takes a tag, not a digest");
    } else {
        if (!a.contains("dest") || a.at("dest").empty())
            throw Error(ErrorKind::kUsage, "--cache-to: type=local needs dest=DIR");
        s.dest = a.at("dest");
    }
    return s;
}

CacheFromSpec parse_cache_from(std::string_view text) {
    const auto a = split_attrs(text, "--cache-from");
    CacheFromSpec s;
    s.shown = std::string(text);
    for (const auto& [k, v] : a) {
        if (k == "type") {
            if (v == "registry")
                s.type = CacheFromSpec::Type::kRegistry;
            else if (v == "local")
                s.type = CacheFromSpec::Type::kLocal;
            else
                throw Error(
                    ErrorKind::kUsage,
                    fmt::format("--cache-from: type={} is not supported (registry or local)", v));
        } else if (k != "ref" && k != "src") {
            unknown("--cache-from", k, "type, ref, src");
        }
    }
    if (s.type == CacheFromSpec::Type::kRegistry) {
        s.ref = cache_ref(a.contains("ref") ? a.at("ref") : "", "--cache-from");
    } else {
        if (!a.contains("src") || a.at("src").empty())
            throw Error(ErrorKind::kUsage, "--cache-from: type=local needs src=DIR");
        s.src = a.at("src");
    }
    return s;
}

std::shared_ptr<cache::ImportedCache> import_caches(const std::vector<CacheFromSpec>& specs,
                                                    RegistryClientFor clients, std::FILE* warn) {
    if (specs.empty()) return nullptr;
    auto imported = std::make_shared<cache::ImportedCache>();
    for (const CacheFromSpec& s : specs) {
        try {
            if (s.type == CacheFromSpec::Type::kLocal) {
                imported->add(cache::read_cache_layout(s.src), cache::layout_blob_source(s.src));
            } else {
                const std::string what = "registry " + s.ref.str();
                const std::string at = s.ref.digest ? s.ref.digest->str() : s.ref.tag;
                registry::CacheDocuments docs = registry::fetch_cache_documents(
                    clients(s.ref.domain, false), s.ref.path, at, what);
                imported->add(cache::parse_cache_artifact(docs.manifest, docs.config, what),
                              std::make_shared<RegistryBlobs>(clients, s.ref));
            }
        } catch (const Error& e) {
            // A cache that is not there (yet) or cannot be reached costs
            // speed, not correctness: BuildKit warns and builds. A cache that
            // is there and malformed is an error: someone should look.
            if (e.kind() == ErrorKind::kParse || e.kind() == ErrorKind::kUsage) throw;
            if (warn)
                fmt::print(warn, "WARNING: --cache-from {}: {} (building without it)\n", s.shown,
                           e.what());
        }
    }
    return imported;
}

namespace {

void export_cache_now(const CacheToSpec& spec, const RegistryClientFor& clients,
                      store::ImageStore& store, cache::ImportedCache* imported,
                      const cache::CacheExport& entries, std::FILE* out) {
    cache::CacheExport leaving;
    leaving.memos = entries.memos;
    store::ExportOptions opts;
    opts.compression = spec.compression;
    for (const cache::CacheEntry& e : entries.entries) {
        cache::CacheEntry x = e;
        if (x.layer) {
            if (imported) imported->provide({*x.layer}, store.content());
            store::LayerRecord out = store::export_layer(store, *x.layer, opts);
            // export_layer names the compressed blob; the media type says
            // how (as export_image sets it).
            if (out.digest != x.layer->digest)
                out.media_type = store::layer_media_type(spec.compression);
            x.layer = std::move(out);
        }
        leaving.entries.push_back(std::move(x));
    }
    const cache::CacheArtifact art = cache::make_cache_artifact(leaving);
    const store::Digest manifest = store::sha256_of(art.manifest);
    std::string where;
    if (spec.type == CacheToSpec::Type::kLocal) {
        cache::write_cache_layout(spec.dest, art, store.content());
        where = spec.dest.string();
    } else {
        registry::push_cache_documents(clients(spec.ref.domain, true), spec.ref.path, spec.ref.tag,
                                       {art.manifest, art.config}, art.layers, store.content());
        where = spec.ref.str();
    }
    if (out)
        fmt::print(out, "exported build cache to {}: {} entries, {} layers, manifest {}\n", where,
                   leaving.entries.size(), art.layers.size(), manifest.str());
}

}  // namespace

void export_cache(const CacheToSpec& spec, const RegistryClientFor& clients,
                  store::ImageStore& store, cache::ImportedCache* imported,
                  const cache::CacheExport& entries, std::FILE* out) {
    try {
        export_cache_now(spec, clients, store, imported, entries, out);
    } catch (const Error& e) {
        if (!spec.ignore_error) throw;
        fmt::print(stderr, "WARNING: --cache-to: {} (ignore-error=true: the build stands)\n",
                   e.what());
    }
}

}  // namespace strata::cli
