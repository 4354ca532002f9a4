// The build context on the real disk, with its persistent stat cache: what
// the executor calls once per build.
//
//   auto ignore = frontend::load_dockerignore(context_dir, dockerfile);
//   auto dir = store_root / "cache/contexts" / cache::context_cache_id(context_dir);
//   cache::ContextSnapshot ctx = cache::hash_context(context_dir, ignore, dir);
#pragma once

#include <filesystem>

#include "cache/context_snapshot.hpp"

namespace strata::frontend {
class DockerIgnore;
}

namespace strata::cache {

// Snapshots `context_dir` (its canonical absolute path becomes root_path())
// with the stat cache kept in `cache_dir`: loaded (an unusable file is
// ignored), consulted, and written back only when something changed. An
// empty `cache_dir` hashes without a cache. `threads` as in SnapshotOptions.
ContextSnapshot hash_context(const std::filesystem::path& context_dir,
                             const frontend::DockerIgnore& ignore,
                             const std::filesystem::path& cache_dir, unsigned threads = 0);

}  // namespace strata::cache
