#include "executor/run/cache_mount_dirs.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <system_error>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "store/digest.hpp"

namespace strata::executor {

namespace fs = std::filesystem;

fs::path CacheMountDirs::dir(const fs::path& root, const std::string& id, bool fresh) {
    fs::path out = root / "mounts" / store::sha256_of(id).hex.substr(0, 32);
    // Its last use, for `builder prune` (cache/cache_prune.hpp); a directory
    // not made yet gets its time when it is.
    ::utimensat(AT_FDCWD, out.c_str(), nullptr, 0);
    if (!fresh) return out;
    std::lock_guard lock(mu_);
    if (!emptied_.insert(out).second) return out;
    std::error_code ec;
    fs::remove_all(out, ec);
    if (ec)
        throw system_error("empty cache mount directory for --no-cache", out.string(), ec.value());
    return out;
}

fs::path CacheMountDirs::seeded(const fs::path& root, const std::string& key, bool fresh,
                                const std::function<void(const fs::path&)>& seed) {
    const fs::path out = dir(root, key, fresh);
    std::lock_guard lock(seed_mu_);  // one seed at a time in this process
    std::error_code ec;
    if (fs::exists(out, ec)) return out;
    fs::create_directories(root / "mounts", ec);
    if (ec) throw system_error("create directory", (root / "mounts").string(), ec.value());
    TempDir made = TempDir::create(root / "mounts", ".seed-");
    seed(made.path());
    // Another strata may have made it meanwhile: then its directory stays.
    if (::rename(made.path().c_str(), out.c_str()) == 0)
        made.keep();
    else if (errno != EEXIST && errno != ENOTEMPTY)
        throw system_error("rename seeded cache mount directory", out.string());
    return out;
}

namespace {

bool unfinished(const std::string& name) {
    return name.rfind(".seed-", 0) == 0;
}

}  // namespace

void CacheMountRecords::prune_leftovers(store::PruneReport& report) {
    std::error_code ec;
    for (auto it = fs::directory_iterator(mounts_, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!unfinished(name)) continue;
        const uint64_t size = store::tree_size(it->path());
        remove_tree(it->path());
        report.other.emplace_back("unfinished cache mount " + name, size);
        report.freed += size;
    }
    if (ec && ec != std::errc::no_such_file_or_directory)
        throw system_error("list cache mounts", mounts_.string(), ec.value());
}

std::vector<cache::CacheRecord> CacheMountRecords::records() const {
    std::vector<cache::CacheRecord> out;
    std::error_code ec;
    for (auto it = fs::directory_iterator(mounts_, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        struct stat st {};
        if (unfinished(name) || ::lstat(it->path().c_str(), &st) != 0) continue;
        cache::CacheRecord r;
        r.id = "mount:" + name;
        r.description = "cache mount " + name;
        r.last_used = st.st_mtim.tv_sec;
        r.size = store::tree_size(it->path());
        out.push_back(std::move(r));
    }
    if (ec && ec != std::errc::no_such_file_or_directory)
        throw system_error("list cache mounts", mounts_.string(), ec.value());
    return out;
}

void CacheMountRecords::remove(const cache::CacheRecord& record, store::PruneReport& report) {
    remove_tree(mounts_ / record.id.substr(record.id.find(':') + 1));
    report.other.emplace_back(record.description, record.size);
    report.freed += record.size;
}

}  // namespace strata::executor
