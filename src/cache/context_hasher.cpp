#include "cache/context_hasher.hpp"

#include "base/error.hpp"
#include "cache/stat_cache.hpp"
#include "frontend/dockerignore.hpp"

namespace strata::cache {

ContextSnapshot hash_context(const std::filesystem::path& context_dir,
                             const frontend::DockerIgnore& ignore,
                             const std::filesystem::path& cache_dir, unsigned threads) {
    std::error_code ec;
    std::filesystem::path root = std::filesystem::canonical(context_dir, ec);
    if (ec) throw system_error("open build context", context_dir.string(), ec.value());
    RealFilesystem fs;
    SnapshotOptions opts;
    opts.ignore = &ignore;
    opts.threads = threads;
    if (cache_dir.empty()) return snapshot_context(fs, root.string(), opts);

    StatCache cache = StatCache::load(cache_dir);
    opts.stat_cache = &cache;
    ContextSnapshot snap = snapshot_context(fs, root.string(), opts);
    cache.save(cache_dir, snap.started_at_ns());
    return snap;
}

}  // namespace strata::cache
