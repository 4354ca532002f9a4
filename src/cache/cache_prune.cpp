#include "cache/cache_prune.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

#include "base/error.hpp"
#include "cache/build_summary.hpp"

namespace strata::cache {

std::vector<size_t> choose_prunable(const std::vector<CacheRecord>& records,
                                    const CachePrunePolicy& policy) {
    const auto counted = [&](const CacheRecord& r) {
        return policy.all || (!r.shared && !r.internal);
    };
    std::vector<size_t> eligible;
    for (size_t i = 0; i < records.size(); ++i) {
        const CacheRecord& r = records[i];
        if (!counted(r)) continue;
        if (policy.keep_duration_s > 0 && r.last_used > policy.now - policy.keep_duration_s)
            continue;
        eligible.push_back(i);
    }
    // Least recently used first; ties in a fixed order.
    std::stable_sort(eligible.begin(), eligible.end(), [&](size_t a, size_t b) {
        if (records[a].last_used != records[b].last_used)
            return records[a].last_used < records[b].last_used;
        return records[a].id < records[b].id;
    });
    if (policy.keep_bytes == 0) return eligible;
    uint64_t total = 0;
    for (const CacheRecord& r : records)
        if (counted(r)) total += r.size;
    std::vector<size_t> out;
    for (size_t i : eligible) {
        if (total < policy.keep_bytes) break;
        out.push_back(i);
        total -= std::min(total, records[i].size);
    }
    return out;
}

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kEntryPrefix = "entry:";
constexpr std::string_view kInternalPrefix = "internal:";

// Internal records: one per directory of derived files.
constexpr std::pair<const char*, const char*> kInternalDirs[] = {{"memo", "cache memo files"},
                                                                 {"parsed", "parsed Dockerfiles"}};

std::string describe(const CacheEntry& e) {
    return "cache entry " + e.key.substr(0, 19) +
           (e.description.empty() ? "" : " (" + e.description + ")");
}

uint64_t size_or_zero(const fs::path& p) {
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    return ec ? 0 : n;
}

void remove_file(const fs::path& p) {
    std::error_code ec;
    fs::remove(p, ec);
    if (ec) throw system_error("remove", p.string(), ec.value());
}

}  // namespace

std::vector<CacheRecord> CacheGcParticipant::records(const store::GcRoots& image_roots) const {
    const std::map<std::string, int64_t> summary_use = BuildSummaries(index_.dir()).step_last_use();
    const std::vector<CacheEntry> entries = index_.list();
    std::map<store::Digest, uint64_t> holders;  // entries per layer blob
    for (const CacheEntry& e : entries)
        if (e.layer) ++holders[e.layer->digest];
    std::vector<CacheRecord> out;
    for (const CacheEntry& e : entries) {
        struct stat st {};
        if (::stat(index_.entry_path(e.key).c_str(), &st) != 0) continue;
        CacheRecord r;
        r.id = std::string(kEntryPrefix) + e.key;
        r.description = describe(e);
        r.last_used = st.st_mtim.tv_sec;
        if (auto it = summary_use.find(e.key); it != summary_use.end())
            r.last_used = std::max(r.last_used, it->second);
        r.shared = e.layer && image_roots.blobs.count(e.layer->digest) > 0;
        r.size = static_cast<uint64_t>(st.st_size);
        // A blob several entries hold is shared out among them.
        if (e.layer && !r.shared && blobs_.has(e.layer->digest))
            r.size += blobs_.size(e.layer->digest) / holders[e.layer->digest];
        out.push_back(std::move(r));
    }
    for (const auto& [dir, what] : kInternalDirs) {
        CacheRecord r;
        r.id = std::string(kInternalPrefix) + dir;
        r.description = what;
        r.internal = true;
        std::error_code ec;
        for (auto it = fs::directory_iterator(index_.dir() / dir, ec);
             !ec && it != fs::directory_iterator(); it.increment(ec)) {
            struct stat st {};
            if (::lstat(it->path().c_str(), &st) != 0) continue;
            r.size += static_cast<uint64_t>(st.st_size);
            r.last_used = std::max<int64_t>(r.last_used, st.st_mtim.tv_sec);
        }
        if (r.size > 0) out.push_back(std::move(r));
    }
    return out;
}

void CacheGcParticipant::remove_entry(const std::string& key, const std::string& description,
                                      store::PruneReport& report) {
    const uint64_t size = size_or_zero(index_.entry_path(key));
    index_.remove(key);
    report.other.emplace_back(description, size);
    report.freed += size;
}

void CacheGcParticipant::prune(const store::GcRoots& image_roots, store::PruneReport& report) {
    std::vector<std::string> unreadable;
    for (const CacheEntry& e : index_.list(&unreadable))
        if (!CacheIndex::usable(e, blobs_)) remove_entry(e.key, describe(e), report);
    for (const std::string& name : unreadable) {
        const fs::path p = index_.dir() / "steps" / name;
        const uint64_t size = size_or_zero(p);
        remove_file(p);
        report.other.emplace_back("unreadable cache entry " + name, size);
        report.freed += size;
    }
    for (CacheRecordSource* source : sources_)
        source->prune_leftovers(report);
    bool everything = false;
    if (policy_) {
        std::vector<CacheRecord> all = records(image_roots);
        std::vector<CacheRecordSource*> owner(all.size(), nullptr);
        for (CacheRecordSource* source : sources_)
            for (CacheRecord& r : source->records()) {
                all.push_back(std::move(r));
                owner.push_back(source);
            }
        for (size_t i : choose_prunable(all, *policy_)) {
            const CacheRecord& r = all[i];
            if (owner[i]) {
                owner[i]->remove(r, report);
            } else if (r.internal) {
                const fs::path dir = index_.dir() / r.id.substr(kInternalPrefix.size());
                std::error_code ec;
                for (auto it = fs::directory_iterator(dir, ec);
                     !ec && it != fs::directory_iterator(); it.increment(ec))
                    remove_file(it->path());
                report.other.emplace_back(r.description, r.size);
                report.freed += r.size;
            } else {
                remove_entry(r.id.substr(kEntryPrefix.size()), r.description, report);
            }
        }
        everything = policy_->all && policy_->keep_duration_s == 0 && policy_->keep_bytes == 0;
    }
    prune_copy_indexes(image_roots, everything, report);
}

// COPY's indexes of layer blobs (executor/copy/copy_reuse.hpp), named by the
// blob's digest: of no use once the blob is gone, and it goes unless an image
// or a cache entry that stays holds it. All of them go with everything else.
void CacheGcParticipant::prune_copy_indexes(const store::GcRoots& image_roots, bool all,
                                            store::PruneReport& report) {
    std::set<store::Digest> kept;
    if (!all)
        for (const CacheEntry& e : index_.list())
            if (e.layer) kept.insert(e.layer->digest);
    uint64_t size = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(index_.dir() / "copy-index", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
        const auto digest = store::Digest::try_parse("sha256:" + it->path().filename().string());
        if (!all && digest && (image_roots.blobs.count(*digest) || kept.count(*digest))) continue;
        size += size_or_zero(it->path());
        remove_file(it->path());
    }
    if (size > 0) {
        report.other.emplace_back("COPY indexes of layers", size);
        report.freed += size;
    }
}

void CacheGcParticipant::add_roots(store::GcRoots& roots) const {
    for (const CacheEntry& e : index_.list()) {
        if (!e.layer) continue;
        roots.blobs.insert(e.layer->digest);
        roots.layers.insert(e.layer->diff_id);
    }
}

}  // namespace strata::cache
