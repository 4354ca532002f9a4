// `strata build --cache-to` / `--cache-from` (docs/cache-export.md): the
// flags as buildx spells them, and the glue between the cache artifact
// (cache/cache_export.hpp) and its transports (a directory, a registry).
#pragma once

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache_export.hpp"
#include "executor/builder.hpp"
#include "registry/client.hpp"
#include "store/compression.hpp"
#include "store/image_store.hpp"
#include "store/name_index_reference.hpp"

namespace strata::cli {

struct CacheToSpec {
    enum class Type { kLocal, kRegistry } type = Type::kLocal;
    std::filesystem::path dest;  // kLocal
    store::Reference ref;        // kRegistry, with a tag
    executor::BuildRequest::CacheExportMode mode = executor::BuildRequest::CacheExportMode::kMin;
    store::Compression compression = store::Compression::kGzip;
    bool ignore_error = false;  // ignore-error=true: a failed export is a warning
};

struct CacheFromSpec {
    enum class Type { kLocal, kRegistry } type = Type::kLocal;
    std::filesystem::path src;  // kLocal
    store::Reference ref;       // kRegistry
    std::string shown;          // as given, for messages
};

// `type=registry,ref=HOST/REPO:TAG[,mode=min|max][,compression=gzip|zstd|
// uncompressed][,ignore-error=true]` or `type=local,dest=DIR[,…]`; a bare
// value is a registry ref. Error(kUsage) naming the flag otherwise.
CacheToSpec parse_cache_to(std::string_view text);
// `type=registry,ref=…` or `type=local,src=DIR`; a bare value is a ref.
CacheFromSpec parse_cache_from(std::string_view text);

// The registry client for a domain, for pulls (false) or pushes (true);
// the build's registry session, opened on first use.
using RegistryClientFor =
    std::function<registry::RegistryClient&(const std::string& domain, bool push)>;

// Reads every --cache-from. One that cannot be reached (no directory, no
// manifest, the registry down) is a warning on `warn` and the build goes
// on without it; a malformed one is an Error naming it.
std::shared_ptr<cache::ImportedCache> import_caches(const std::vector<CacheFromSpec>& specs,
                                                    RegistryClientFor clients, std::FILE* warn);

// Writes the build's cache entries to `spec`: layers compressed as asked
// (memoized as for push), blobs only an imported cache had fetched first.
void export_cache(const CacheToSpec& spec, const RegistryClientFor& clients,
                  store::ImageStore& store, cache::ImportedCache* imported,
                  const cache::CacheExport& entries, std::FILE* out);

}  // namespace strata::cli
