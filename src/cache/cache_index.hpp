// The build cache index: step cache key → what the step produced.
//
// On disk, under <root>/cache/:
//   steps/<key hex>   one JSON document per cache entry (CacheEntry)
//   memo/<hex>        derived digests that are costly to recompute (e.g. the
//                     digest of what a COPY --from selects in a stage's
//                     layers), keyed by a digest of their exact inputs
//   parsed/<hex>      Dockerfiles' parses (executor/dockerfile_memo.hpp)
//   copy-index/<hex>  where a COPY's files sit in its layer blob <hex>
//                     (executor/copy/copy_reuse.hpp)
//
// Every file is written atomically (temp file, rename), so a reader sees a
// whole entry or none, and concurrent builds sharing a store never see a
// torn one: the last writer of a key wins, and both wrote a valid result.
// Both kinds are hints, written without fsync: what a crash leaves of one
// (nothing, empty, cut short, zeros) reads as a miss.
// An entry is only written after the blob it names is in the content store,
// so an entry never points at a blob that was not there yet. Entries whose
// blobs were removed since are treated as misses (usable() is false) and
// dropped by `strata prune`.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/content_store.hpp"
#include "store/image_store_record.hpp"

namespace strata::cache {

struct CacheEntry {
    std::string key;      // "sha256:<hex>", the step's cache key
    std::string created;  // RFC 3339: when the result was made (history "created")
    // The layer the step produced; none for steps that only change the config.
    std::optional<store::LayerRecord> layer;
    std::string description;  // the step as shown in progress output, for humans

    bool operator==(const CacheEntry&) const = default;
};

class CacheIndex {
  public:
    // `cache_dir` is <root>/cache; its subdirectories are made when missing.
    explicit CacheIndex(std::filesystem::path cache_dir);

    const std::filesystem::path& dir() const { return dir_; }

    // The entry for `key`, or nullopt. An unreadable or malformed entry is a
    // miss (it is overwritten by the next put), never an error: the cache
    // must not be able to fail a build. A hit sets the entry file's mtime to
    // now: its last use, which `builder prune --filter until=` and
    // `--keep-storage` go by (cache_prune.hpp).
    std::optional<CacheEntry> get(std::string_view key) const;
    // Writes (or replaces) the entry for entry.key.
    void put(const CacheEntry& entry);
    void remove(std::string_view key);

    // The index's generation: a number that grows with every put() and
    // remove() from any process (the size of cache/generation, one byte
    // appended per change, after the change). A build summary
    // (build_summary.hpp) recorded at generation G stays valid while the
    // generation is G. 0 when nothing was ever written.
    uint64_t generation() const;
    // How many put() and remove() calls this object (and its copies) made.
    uint64_t own_changes() const { return own_changes_->load(); }
    // Every readable entry, sorted by key; unreadable files are listed in
    // `unreadable` (file names) when given.
    std::vector<CacheEntry> list(std::vector<std::string>* unreadable = nullptr) const;

    // Whether the entry's layer blob is in `blobs` (entries without a layer
    // always are).
    static bool usable(const CacheEntry& entry, const store::ContentStore& blobs);

    // Derived digests: `input` is any string naming the inputs exactly (it is
    // hashed to a file name); the value is an opaque string.
    std::optional<std::string> memo(std::string_view input) const;
    void put_memo(std::string_view input, std::string_view value);
    // Memos read or written through this object and its copies, by the
    // sha256 hex of their input (a cache export carries them), and memos
    // imported with --cache-from, read when the store has none.
    std::map<std::string, std::string> memos_used() const;
    void import_memos(const std::map<std::string, std::string>& by_input_hex);

    // Serialization (exposed for tests).
    static std::string to_json(const CacheEntry& entry);
    // Error(kCorrupt) naming `what` for anything malformed.
    static CacheEntry from_json(std::string_view text, std::string_view what);

    // steps/<hex of the key>: the entry's file.
    std::filesystem::path entry_path(std::string_view key) const;

  private:
    void bump_generation();

    std::filesystem::path dir_;
    std::shared_ptr<std::atomic<uint64_t>> own_changes_ =
        std::make_shared<std::atomic<uint64_t>>(0);
    struct MemoLog {
        std::mutex mu;
        std::map<std::string, std::string> used, imported;
    };
    std::shared_ptr<MemoLog> memo_log_ = std::make_shared<MemoLog>();
};

}  // namespace strata::cache
