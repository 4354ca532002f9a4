// The build cache as it travels between machines (docs/cache-export.md):
// `--cache-to` writes cache entries as an OCI artifact — a manifest whose
// layers are the steps' layer blobs and whose config maps cache keys to
// them — and `--cache-from` reads one back. This file holds what does not
// depend on the transport: the artifact's format, an OCI image layout
// directory (type=local), and the imported entries with the lazy blob
// provider the build consults before it needs a blob it lacks. The registry
// transport is in src/registry/cache_transport.hpp.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache_index.hpp"
#include "store/content_store.hpp"
#include "store/image_store_record.hpp"

namespace strata::cache {

inline constexpr std::string_view kCacheArtifactType = "application/vnd.strata.build-cache.v1";
inline constexpr std::string_view kCacheConfigMediaType =
    "application/vnd.strata.build-cache.config.v1+json";
inline constexpr int kCacheFormatVersion = 1;

// What an export carries: cache entries (layers as they leave: compressed
// as chosen) and the memos (cache_index.hpp) keys were computed from,
// keyed by the sha256 hex of their input.
struct CacheExport {
    std::vector<CacheEntry> entries;
    std::map<std::string, std::string> memos;
};

// The artifact's two documents and the layers its manifest lists.
struct CacheArtifact {
    std::string manifest;                    // OCI image manifest, canonical JSON
    std::string config;                      // kCacheConfigMediaType
    std::vector<store::LayerRecord> layers;  // in manifest order (sorted by digest)
};

// Deterministic for the same entries: entries sorted by key, layers
// deduplicated and sorted by digest, memos sorted by input.
CacheArtifact make_cache_artifact(const CacheExport& exported);

// Parses an artifact (what: the ref or directory, named in every error).
// Error(kParse) for anything malformed: a wrong artifact or config type, a
// config whose digest or size differs from the manifest's descriptor, an
// entry naming a layer that is not there, a bad digest.
CacheExport parse_cache_artifact(std::string_view manifest, std::string_view config,
                                 std::string_view what);

// Where an imported cache's blobs come from.
class CacheBlobSource {
  public:
    virtual ~CacheBlobSource() = default;
    // Names the source in messages ("registry HOST/REPO:TAG", "directory D").
    virtual std::string name() const = 0;
    // Puts the blob of `layer` into `blobs`, checked against its digest and
    // size (Error(kCorrupt) otherwise).
    virtual void fetch(const store::LayerRecord& layer, store::ContentStore& blobs) = 0;
};

// The entries of every --cache-from, consulted after the store's own index
// misses. Blobs are fetched only when the build needs them (provide()).
class ImportedCache {
  public:
    void add(CacheExport exported, std::shared_ptr<CacheBlobSource> source);
    bool empty() const { return entries_.empty(); }

    // The entry for `key` (first source that has it), or nullopt.
    std::optional<CacheEntry> get(std::string_view key) const;
    const std::map<std::string, std::string>& memos() const { return memos_; }

    // Ensures the blobs of `layers` are in `blobs`: a missing blob that an
    // imported entry named is fetched from its source, then checked — the
    // digest and size while it is written, the diffID by reading it back —
    // and removed again when its diffID lies (Error(kCorrupt) naming the
    // source). Blobs nobody imported are left alone. Thread-safe; each blob
    // is fetched once.
    void provide(const std::vector<store::LayerRecord>& layers, store::ContentStore& blobs);

    // Whether an imported entry names this blob (provide() can fetch it).
    bool has_source(const store::Digest& blob) const;
    // Blob digests fetched so far (tests, progress).
    std::vector<store::Digest> fetched() const;

  private:
    std::map<std::string, CacheEntry, std::less<>> entries_;
    std::map<std::string, std::string> memos_;
    // blob digest → where it comes from
    std::map<store::Digest, std::shared_ptr<CacheBlobSource>> sources_;
    // Entries, memos and sources are set before the build starts (add())
    // and only read during it; mu_ guards them against a late add().
    mutable std::mutex mu_;
    std::mutex fetch_mu_;  // one fetch at a time; lookups never wait for one
    std::set<store::Digest> fetched_;
};

// type=local: the artifact in an OCI image layout directory (oci-layout,
// index.json naming the manifest, blobs/sha256/…). Layer blobs come from
// `blobs`; blobs already in the directory are not written again, and
// blobs of an earlier export that no entry names any more are removed.
void write_cache_layout(const std::filesystem::path& dir, const CacheArtifact& artifact,
                        const store::ContentStore& blobs);
// Reads the layout's artifact (the first manifest in index.json whose
// artifactType is ours, or the only one). Error(kNotFound) when the
// directory has no layout, Error(kParse) when it is malformed.
CacheExport read_cache_layout(const std::filesystem::path& dir);
// The blobs of a layout directory.
std::shared_ptr<CacheBlobSource> layout_blob_source(const std::filesystem::path& dir);

}  // namespace strata::cache
