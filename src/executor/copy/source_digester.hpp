// BuildDigester — the executor's SourceDigester (planner/cache_key.hpp): the
// content digests that go into COPY/ADD and RUN --mount cache keys.
//
// - Context sources are resolved exactly as the COPY engine resolves them
//   (plan_sources over the BuildContext view: wildcards, symlinks followed at
//   the top, --parents, top-level --exclude), and each selected item is then
//   looked up in the context snapshot, whose per-directory Merkle digests
//   make a whole directory one lookup. So the key covers what the copy
//   reads, and a no-op rebuild reads no file.
// - Stage and image sources (COPY --from) are selected with select_sources
//   over the unpacked layers and digested with uid/gid. The result depends
//   only on the layers' diffIDs and the selection, so it is memoized in the
//   cache index under exactly those inputs: a rebuild whose source stage
//   came from the cache neither unpacks nor reads anything.
// - ADD <url> without --checksum downloads the URL once; the download is
//   handed to the COPY engine (prefetched()) so it is not fetched twice.
//
// Thread-safe: stages built in parallel share one digester.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/temp_dir.hpp"
#include "cache/cache_index.hpp"
#include "cache/context_snapshot.hpp"
#include "executor/copy/git_source.hpp"
#include "executor/copy/source_view.hpp"
#include "executor/copy/url_fetch.hpp"
#include "planner/cache_key.hpp"
#include "store/image_store_record.hpp"

namespace strata::executor {

// The filesystem of the stage or image a COPY --from names: its stored
// layers (lowest first, to unpack), or — a stage still storing its last
// layer (BuildSession::source_dirs) — the directories it was made in, to
// read while `lease` is held.
struct SourceDirs {
    std::optional<std::vector<store::LayerRecord>> layers;
    std::vector<std::filesystem::path> dirs;  // without `layers`
    std::shared_ptr<void> lease;
};

struct DigesterHooks {
    // The build context ("") or a named one, snapshotted (and hashed) on
    // first use.
    std::function<const cache::ContextSnapshot&(const std::string& name)> snapshot;
    std::function<const BuildContext&(const std::string& name)> context;
    std::function<SourceDirs(const planner::SourceRef&)> source_dirs;
    // The stored layers (lowest first) of the stage or image a COPY --from
    // names, waiting for them.
    std::function<std::vector<store::LayerRecord>(const planner::SourceRef&)> layers_of;
    // Unpacked directories of those layers, lowest first.
    std::function<std::vector<std::filesystem::path>(const std::vector<store::LayerRecord>&)>
        unpack;
};

class BuildDigester final : public planner::SourceDigester {
  public:
    // ADD <url> downloads go to a directory made under `tmp_parent` on the
    // first one (most builds have none), removed with the digester.
    BuildDigester(DigesterHooks hooks, cache::CacheIndex& cache, std::filesystem::path tmp_parent,
                  FetchOptions fetch = {});

    std::string context_sources(const planner::CopyStep& copy) override;
    std::string stage_sources(const planner::CopyStep& copy) override;
    std::string url_content(const std::string& url) override;
    std::string git_source(const std::string& url, bool keep_git_dir) override;
    std::string context_mount(const planner::RunMount& mount) override;

    // Memoizes the selections digested before their stage's layers were
    // stored (no memo input then): for the next build, and for a cache
    // export. Once every stage has its result.
    void memoize_late();

    // URLs downloaded while computing keys (for CopyEnvironment::prefetched).
    std::map<std::string, FetchedUrl> prefetched() const;
    // The commits ADD <git url> keys were made with, by git_checkout_key()
    // (for CopyEnvironment::git_commits).
    std::map<std::string, std::string> git_commits() const;

    // The context paths a COPY selects at the top (files and directory
    // roots, after wildcards and symlinks), for --explain.
    std::vector<std::string> context_roots(const planner::CopyStep& copy);

  private:
    DigesterHooks hooks_;
    cache::CacheIndex& cache_;
    std::filesystem::path tmp_parent_;
    FetchOptions fetch_;
    mutable std::mutex mu_;
    std::optional<TempDir> downloads_dir_;
    std::map<std::string, FetchedUrl> downloads_;
    std::map<std::string, std::string> git_commits_;
    // Digests already computed, by the step they were computed for: a key's
    // fields are asked for more than once (the key, then --explain).
    std::map<std::pair<const void*, int>, std::string> memo_;
    std::vector<const planner::CopyStep*> memo_late_;  // for memoize_late()
};

// The memo input for a COPY --from selection over `layers` (exposed for tests).
std::string stage_selection_input(const planner::CopyStep& copy,
                                  const std::vector<store::LayerRecord>& layers);

}  // namespace strata::executor
