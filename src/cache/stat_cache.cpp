#include "cache/stat_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace strata::cache {
namespace {

constexpr char kMagic[8] = {'S', 'T', 'R', 'A', 'T', 'A', 'S', 'C'};
constexpr size_t npos = static_cast<size_t>(-1);

struct FileHeader {
    char magic[8];
    uint32_t version;
    uint32_t record_size;
    uint64_t count;
    int64_t written_at_ns;  // informational: start of the snapshot that wrote it
};
static_assert(sizeof(FileHeader) == 32);

struct FileTrailer {
    uint64_t lo, hi;  // XXH3-128 of header and records
};

uint64_t mix(uint64_t dev, uint64_t ino) {
    uint64_t x = ino * 0x9E3779B97F4A7C15ull ^ (dev + 0x632BE59BD9B4E019ull);
    x ^= x >> 32;
    x *= 0xD6E8FEB86659FD93ull;
    return x ^ (x >> 32);
}

Hash128 checksum(const FileHeader& h, std::span<const StatRecord> records) {
    XXH3_state_t* st = XXH3_createState();
    if (!st) throw Error(ErrorKind::kInternal, "out of memory for XXH3 state");
    XXH3_128bits_reset(st);
    XXH3_128bits_update(st, &h, sizeof h);
    XXH3_128bits_update(st, records.data(), records.size_bytes());
    XXH128_hash_t d = XXH3_128bits_digest(st);
    XXH3_freeState(st);
    return Hash128{d.low64, d.high64};
}

// Reads exactly `n` bytes with readv; false on a short file.
bool read_exact(int fd, struct iovec* iov, int iovcnt, size_t n, const std::string& what) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = ::readv(fd, iov, iovcnt);
        if (r < 0) {
            if (errno == EINTR) continue;
            throw system_error("read", what);
        }
        if (r == 0) return false;
        got += static_cast<size_t>(r);
        // Advance the iovecs past what was read (rare: regular files read fully).
        size_t k = static_cast<size_t>(r);
        while (iovcnt > 0 && k >= iov->iov_len) {
            k -= iov->iov_len;
            ++iov;
            --iovcnt;
        }
        if (iovcnt > 0) {
            iov->iov_base = static_cast<char*>(iov->iov_base) + k;
            iov->iov_len -= k;
        }
    }
    return true;
}

}  // namespace

StatRecord StatRecord::of(const FileStat& st, const Hash128& hash) {
    StatRecord r;
    r.dev = st.dev;
    r.ino = st.ino;
    r.size = st.size;
    r.mtime_ns = st.mtime_ns;
    r.ctime_ns = st.ctime_ns;
    r.mode = st.mode;
    r.hash = hash;
    return r;
}

StatCache::StatCache() = default;

StatCache StatCache::load(const std::filesystem::path& dir) {
    StatCache cache;
    std::string path = (dir / kFileName).string();
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT || errno == ENOTDIR) return cache;
        throw system_error("open stat cache", path);
    }
    struct stat s;
    if (::fstat(fd.get(), &s) != 0) throw system_error("stat", path);
    cache.status_ = LoadStatus::kDiscarded;
    cache.dirty_ = true;  // rewrite an unusable file at the next save
    size_t fixed = sizeof(FileHeader) + sizeof(FileTrailer);
    if (!S_ISREG(s.st_mode) || static_cast<size_t>(s.st_size) < fixed) return cache;
    size_t body = static_cast<size_t>(s.st_size) - fixed;
    if (body % sizeof(StatRecord) != 0) return cache;

    FileHeader h;
    FileTrailer t;
    std::vector<StatRecord> records(body / sizeof(StatRecord));
    struct iovec iov[3] = {{&h, sizeof h}, {records.data(), body}, {&t, sizeof t}};
    if (!read_exact(fd.get(), iov, 3, static_cast<size_t>(s.st_size), path)) return cache;
    if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.version != kVersion ||
        h.record_size != sizeof(StatRecord) || h.count != records.size())
        return cache;
    if (checksum(h, records) != Hash128{t.lo, t.hi}) return cache;
    cache.records_ = std::move(records);
    if (cache.build_table(false) != 0) {  // duplicate keys: not written by save()
        cache.records_.clear();
        cache.build_table(false);
        return cache;
    }
    cache.status_ = LoadStatus::kLoaded;
    cache.dirty_ = false;
    return cache;
}

size_t StatCache::build_table(bool drop_duplicates) {
    size_t cap = 16;
    while (cap < records_.size() * 2)
        cap <<= 1;
    table_.assign(cap, 0);
    size_t out = 0, duplicates = 0;
    for (size_t i = 0; i < records_.size(); ++i) {
        const StatRecord r = records_[i];
        size_t slot = mix(r.dev, r.ino) & (cap - 1);
        bool dup = false;
        for (; table_[slot] != 0; slot = (slot + 1) & (cap - 1)) {
            const StatRecord& o = records_[table_[slot] - 1];
            if (o.ino == r.ino && o.dev == r.dev) {
                dup = true;
                break;
            }
        }
        if (dup) {
            ++duplicates;
            if (drop_duplicates) continue;
        }
        records_[out] = r;
        if (!dup) table_[slot] = static_cast<uint32_t>(out + 1);
        ++out;
    }
    records_.resize(out);
    return duplicates;
}

size_t StatCache::index_of(uint64_t dev, uint64_t ino) const {
    if (records_.empty()) return npos;
    size_t mask = table_.size() - 1;
    for (size_t slot = mix(dev, ino) & mask;; slot = (slot + 1) & mask) {
        uint32_t v = table_[slot];
        if (v == 0) return npos;
        const StatRecord& r = records_[v - 1];
        if (r.ino == ino && r.dev == dev) return v - 1;
    }
}

const StatRecord* StatCache::find(const FileStat& st, size_t& cursor) const {
    size_t i = cursor;
    if (i >= records_.size() || records_[i].ino != st.ino || records_[i].dev != st.dev) {
        i = index_of(st.dev, st.ino);
        if (i == npos) return nullptr;
    }
    cursor = i + 1;
    return records_[i].same_stat(st) ? &records_[i] : nullptr;
}

void StatCache::update(std::span<const StatRecord> seen, int64_t snapshot_start_ns) {
    // Fast path, the no-op rebuild: the walk saw exactly the first
    // seen.size() records, in order, unchanged. Then nothing moves.
    size_t n = seen.size();
    bool unchanged = n <= records_.size() && (n == 0 || std::memcmp(seen.data(), records_.data(),
                                                                    n * sizeof(StatRecord)) == 0);
    if (unchanged) {
        size_t unseen = records_.size() - n;
        if (unseen <= std::max<size_t>(n, 1024)) return;
    }

    std::vector<uint8_t> seen_old(records_.size(), 0);
    std::vector<StatRecord> next;
    next.reserve(records_.size() + n);
    bool changed = false;
    size_t cursor = 0;
    for (const StatRecord& r : seen) {
        size_t i = cursor < records_.size() && records_[cursor].ino == r.ino &&
                           records_[cursor].dev == r.dev
                       ? cursor
                       : index_of(r.dev, r.ino);
        if (i != npos) {
            cursor = i + 1;
            if (seen_old[i]) continue;  // a hard link already seen under another path
            seen_old[i] = 1;
            if (std::memcmp(&records_[i], &r, sizeof r) == 0) {
                // Unchanged: stays trusted even if its timestamps now fall in
                // the racy window (they were old when it was recorded).
                next.push_back(r);
                continue;
            }
            changed = true;  // the old record is superseded
        }
        if (!is_racy(r.mtime_ns, r.ctime_ns, snapshot_start_ns, racy_margin_ns_)) {
            next.push_back(r);
            changed = true;
        }
    }
    size_t unseen = 0;
    for (uint8_t v : seen_old)
        unseen += v == 0;
    bool prune = unseen > std::max<size_t>(n, 1024);
    // Only the order differs (another .dockerignore, say): the order is a
    // hint for the cursor, not worth a rewrite.
    if (!changed && !prune) return;
    if (!prune)
        for (size_t i = 0; i < records_.size(); ++i)
            if (!seen_old[i]) next.push_back(records_[i]);
    records_ = std::move(next);
    build_table(true);  // hard links first seen now: one record per (dev, ino)
    dirty_ = true;
}

bool StatCache::save(const std::filesystem::path& dir, int64_t written_at_ns) {
    if (!dirty_) return false;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw system_error("create directory", dir.string(), ec.value());
    FileHeader h{};
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.version = kVersion;
    h.record_size = sizeof(StatRecord);
    h.count = records_.size();
    h.written_at_ns = written_at_ns;
    Hash128 sum = checksum(h, records_);
    FileTrailer t{sum.lo, sum.hi};
    AtomicFile out(dir / kFileName);
    out.write(&h, sizeof h);
    out.write(records_.data(), records_.size() * sizeof(StatRecord));
    out.write(&t, sizeof t);
    // No fsync: the checksum makes whatever a crash leaves (nothing, an
    // empty or cut-short file, the previous version) either a valid cache
    // or a discarded one, and an older valid one is still right about every
    // file whose stat it matches.
    out.commit_unsynced();
    dirty_ = false;
    status_ = LoadStatus::kLoaded;
    return true;
}

std::string context_cache_id(const std::filesystem::path& context_dir) {
    std::error_code ec;
    std::filesystem::path p = std::filesystem::canonical(context_dir, ec);
    if (ec) p = std::filesystem::absolute(context_dir).lexically_normal();
    std::string s = "strata-context\n" + p.string();
    XXH128_hash_t d = XXH3_128bits(s.data(), s.size());
    return Hash128{d.low64, d.high64}.hex();
}

}  // namespace strata::cache
