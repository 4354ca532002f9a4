// The directories behind `RUN --mount=type=cache`, one per cache id, under
// the store's cache directory. With --no-cache (or --no-cache-filter for the
// stage) BuildKit prunes the cache mounts of that id and the step gets an
// empty one; later steps of the same build then share what it wrote. So a
// directory is emptied at most once per build.
//
// A cache mount with from= starts as a copy of what it names (BuildKit makes
// it a copy-on-write child of that stage's or image's filesystem, kept under
// its id and that filesystem's identity): seeded() makes it once, whole or
// not at all, also when two strata processes make it at the same time.
#pragma once

#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <string>

#include "cache/cache_prune.hpp"
#include "store/prune.hpp"

namespace strata::executor {

class CacheMountDirs {
  public:
    // `root`/mounts/<32 hex digits of sha256(id)>. With `fresh`, the
    // directory is emptied (removed; the runner makes it again with the
    // mount's uid, gid and mode) the first time this build asks for it.
    std::filesystem::path dir(const std::filesystem::path& root, const std::string& id, bool fresh);

    // The same for a cache that starts with content: `key` names it (the
    // id, what it is seeded from, and which part), and when its directory
    // does not exist (or `fresh` emptied it), `seed(dir)` fills a new
    // private directory that then becomes it.
    std::filesystem::path seeded(const std::filesystem::path& root, const std::string& key,
                                 bool fresh,
                                 const std::function<void(const std::filesystem::path&)>& seed);

  private:
    std::mutex mu_;
    std::set<std::filesystem::path> emptied_;
    std::mutex seed_mu_;
};

// The cache mount directories as build-cache records (cache/cache_prune.hpp):
// `builder prune` weighs them with the cache entries, by their last use (a
// step that mounts one touches it) and size. What a killed seeding left
// (`.seed-*`) always goes. No build runs meanwhile: prune holds the store's
// gc lock, which a build leases for its whole run.
class CacheMountRecords final : public cache::CacheRecordSource {
  public:
    explicit CacheMountRecords(const std::filesystem::path& cache_dir)
        : mounts_(cache_dir / "mounts") {}
    void prune_leftovers(store::PruneReport& report) override;
    std::vector<cache::CacheRecord> records() const override;
    void remove(const cache::CacheRecord& record, store::PruneReport& report) override;

  private:
    std::filesystem::path mounts_;
};

}  // namespace strata::executor
