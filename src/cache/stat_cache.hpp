// The stat cache: (dev, inode, size, mtime_ns, ctime_ns, mode) → XXH3-128
// of a regular file's content, persisted per build context so that an
// unchanged context is re-checked with stat calls alone (git's index, ninja's
// log: stat once, trust the record).
//
// Trust rules (docs/context-hashing.md):
// - A record is used only when every field of the stat matches: a touched
//   file (new mtime), a rewrite (new ctime, size), a file restored from a
//   backup or checked out again (new inode) is rehashed. ctime and inode are
//   there because mtime alone can be forged (`touch -t`, tar extraction):
//   BuildKit keeps stale content when size and mtime match
//   (moby/buildkit#4817).
// - "Racy" files — mtime or ctime not older than the start of the snapshot
//   that hashed them (minus kRacyMarginNs) — are never recorded, as git
//   does: a later change within the same timestamp tick would leave the
//   stat unchanged. They are rehashed until their timestamps are old.
//
// On disk: <dir>/stat-cache, a header, fixed-size records in the order the
// walk met the files (tree order) and an XXH3-128 of everything before it.
// Keeping walk order makes the re-check of an unchanged context a sequential
// scan: each lookup first tries the record after the previous hit (a
// cursor), and only falls back to a hash table on (dev, inode). A missing, truncated or
// corrupt file, or one of another version, is ignored and rewritten; it is
// never trusted. Writes are atomic (temp file, rename; no fsync, since the
// checksum already rejects what a crash can leave), so processes
// building the same context at once never see a torn file: the last writer
// wins, and the loser's records are simply recomputed next time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "cache/context_entry.hpp"
#include "cache/filesystem.hpp"

namespace strata::cache {

// One record; also the on-disk layout (64 bytes, host byte order).
struct StatRecord {
    uint64_t dev = 0;
    uint64_t ino = 0;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    uint32_t mode = 0;  // full st_mode
    uint32_t reserved = 0;
    Hash128 hash;

    static StatRecord of(const FileStat& st, const Hash128& hash);
    bool same_stat(const FileStat& st) const {
        return ino == st.ino && dev == st.dev && size == st.size && mtime_ns == st.mtime_ns &&
               ctime_ns == st.ctime_ns && mode == st.mode;
    }
};
static_assert(sizeof(StatRecord) == 64);

// Whether a file with these timestamps, seen by a snapshot that started at
// `snapshot_start_ns`, is "racy": changed so recently that a later change
// within the same timestamp tick could leave its stat unchanged. Nothing
// that trusts a stat to stand for content records a racy one.
inline bool is_racy(int64_t mtime_ns, int64_t ctime_ns, int64_t snapshot_start_ns,
                    int64_t margin_ns) {
    return std::max(mtime_ns, ctime_ns) >= snapshot_start_ns - margin_ns;
}

class StatCache {
  public:
    static constexpr std::string_view kFileName = "stat-cache";
    static constexpr uint32_t kVersion = 1;
    // Safety margin for the racy test: covers filesystems that round
    // timestamps down (FAT: 2 s) and small clock differences.
    static constexpr int64_t kRacyMarginNs = 2'000'000'000;

    enum class LoadStatus {
        kEmpty,      // no file (or never loaded)
        kLoaded,     // read and verified
        kDiscarded,  // a file was there but unusable (truncated, corrupt, other version)
    };

    StatCache();  // empty, in memory only

    // Reads <dir>/stat-cache. A missing or unusable file gives an empty cache
    // (see load_status()). Throws Error(kSystem) only when an existing file
    // cannot be read (e.g. permission denied).
    static StatCache load(const std::filesystem::path& dir);

    LoadStatus load_status() const { return status_; }
    size_t size() const { return records_.size(); }
    std::span<const StatRecord> records() const { return records_; }

    // The record for exactly this stat (all six fields equal), or null.
    const StatRecord* find(const FileStat& st) const {
        size_t cursor = 0;
        return find(st, cursor);
    }
    // Same, trying records_[cursor] first; `cursor` moves past the record
    // found for (dev, inode). Each thread of a walk keeps its own cursor.
    const StatRecord* find(const FileStat& st, size_t& cursor) const;

    // Folds in what a snapshot that started at `snapshot_start_ns` saw: one
    // record per regular file it looked at (hits included), in tree order,
    // which becomes the order of the records. New and changed
    // files are recorded unless racy; records of files that changed into
    // racy ones are dropped. Records of files the snapshot did not see (other
    // .dockerignore, deleted) are kept unless they outnumber the seen ones, so
    // builds of one context with different ignore files do not evict each
    // other, yet deleted files do not pile up.
    void update(std::span<const StatRecord> seen, int64_t snapshot_start_ns);

    // The margin used by update() (default kRacyMarginNs); tests on a real
    // disk lower it so that files they just wrote can become trusted.
    void set_racy_margin_ns(int64_t ns) { racy_margin_ns_ = ns; }

    // Whether save() has something to write.
    bool dirty() const { return dirty_; }

    // Writes <dir>/stat-cache atomically when dirty() (creating `dir`);
    // returns whether it wrote. Throws Error(kSystem) on failure.
    bool save(const std::filesystem::path& dir, int64_t written_at_ns = 0);

  private:
    size_t index_of(uint64_t dev, uint64_t ino) const;  // npos if absent
    // Indexes records_ by (dev, ino); returns how many keys occur more than
    // once, dropping the later ones if `drop_duplicates`.
    size_t build_table(bool drop_duplicates);

    std::vector<StatRecord> records_;  // in walk order, unique (dev, ino)
    std::vector<uint32_t> table_;      // open addressing: record index + 1, 0 = empty
    LoadStatus status_ = LoadStatus::kEmpty;
    bool dirty_ = false;
    int64_t racy_margin_ns_ = kRacyMarginNs;
};

// The directory name for a context's stat cache under <root>/cache/contexts:
// 32 hex digits of the XXH3-128 of the canonical absolute context path.
std::string context_cache_id(const std::filesystem::path& context_dir);

}  // namespace strata::cache
