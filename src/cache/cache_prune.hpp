// Which build cache `builder prune` removes (docs/images.md), chosen as
// BuildKit's cache manager chooses (cache/manager.go, prune):
//
//   - without `all`, records an image shares (a step whose layer is also an
//     image's layer: removing it frees nothing) and internal records (memos,
//     kept Dockerfile parses) stay — Docker's "dangling" build cache is the
//     rest;
//   - with a keep duration (`--filter until=24h`), a record used within it
//     stays;
//   - with keep bytes (`--keep-storage 10GB`), nothing goes while the cache
//     (what `all` may remove) is smaller than that; else records go, least
//     recently used first, until it is.
//
// A record's last use is when a build last used it: a step entry is touched
// on every cache hit (and a build answered from its summary touches the
// summary, which names its steps), a RUN cache mount each time a step
// mounts it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cache/cache_index.hpp"
#include "store/content_store.hpp"
#include "store/prune.hpp"

namespace strata::cache {

struct CacheRecord {
    std::string id;           // unique among the records
    std::string description;  // as prune reports it
    int64_t last_used = 0;    // seconds since 1970
    uint64_t size = 0;        // what removing it frees
    bool shared = false;      // an image holds its layer: kept unless `all`
    bool internal = false;    // memos, parsed Dockerfiles: kept unless `all`
};

struct CachePrunePolicy {
    bool all = true;              // -a
    int64_t keep_duration_s = 0;  // --filter until=; 0: none
    uint64_t keep_bytes = 0;      // --keep-storage; 0: none
    int64_t now = 0;              // seconds since 1970
};

// Indexes into `records` of those to remove, in the order to remove them.
std::vector<size_t> choose_prunable(const std::vector<CacheRecord>& records,
                                    const CachePrunePolicy& policy);

// Build-cache records that live outside the cache index (RUN cache mounts,
// executor/run/cache_mount_dirs.hpp), pruned together with its entries so
// that --keep-storage weighs them all in one order.
class CacheRecordSource {
  public:
    virtual ~CacheRecordSource() = default;
    // Removes what interrupted work left (always, policy or not).
    virtual void prune_leftovers(store::PruneReport& report) = 0;
    virtual std::vector<CacheRecord> records() const = 0;
    virtual void remove(const CacheRecord& record, store::PruneReport& report) = 0;
};

// `strata prune`'s view of the build cache. Always: entries whose layer blob
// is gone, unreadable entry files, COPY indexes of blobs nothing holds any
// more and the sources' leftovers go. With a policy, also what it chooses
// among the entries, the internal records and the sources' records. The
// entries that stay keep their blobs and unpacked layers alive.
class CacheGcParticipant : public store::GcParticipant {
  public:
    CacheGcParticipant(CacheIndex& index, const store::ContentStore& blobs,
                       std::optional<CachePrunePolicy> policy = std::nullopt,
                       std::vector<CacheRecordSource*> sources = {})
        : index_(index), blobs_(blobs), policy_(policy), sources_(std::move(sources)) {}
    std::string name() const override { return "build cache"; }
    void prune(const store::GcRoots& image_roots, store::PruneReport& report) override;
    void add_roots(store::GcRoots& roots) const override;

    // The records a policy chooses from (exposed for tests and `system df`):
    // the index's entries and its internal records.
    std::vector<CacheRecord> records(const store::GcRoots& image_roots) const;

  private:
    void remove_entry(const std::string& key, const std::string& description,
                      store::PruneReport& report);
    void prune_copy_indexes(const store::GcRoots& image_roots, bool all,
                            store::PruneReport& report);

    CacheIndex& index_;
    const store::ContentStore& blobs_;
    std::optional<CachePrunePolicy> policy_;
    std::vector<CacheRecordSource*> sources_;
};

}  // namespace strata::cache
