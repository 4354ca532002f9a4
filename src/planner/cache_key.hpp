// Cache keys (docs/cache-keys.md): sha256 over a versioned, length-prefixed
// encoding of the parent key and the step's key fields, plus digests of the
// sources a COPY/ADD selects, which the executor supplies through
// SourceDigester. Keys are pure functions of these inputs: the planner never
// touches a filesystem, so every rule is testable with a fake digester.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "planner/build_plan.hpp"

namespace strata::planner {

// Bumped whenever the encoding or the set of inputs changes, so that keys
// of an older strata never match.
inline constexpr std::string_view kCacheKeyVersion = "strata.cache-key.v1";

// The executor's side of content digests. Each returns an opaque digest
// string ("xxh3:…", "sha256:…"); only equality matters.
class SourceDigester {
  public:
    virtual ~SourceDigester() = default;
    // What `copy` selects from the build context (its non-URL sources): for
    // each file in a stable order its path relative to the copy root, type,
    // mode (after --chmod), symlink target and content hash, with --exclude
    // and --parents applied. Never uid/gid (context files land as 0:0 or
    // --chown) and never timestamps.
    virtual std::string context_sources(const CopyStep& copy) = 0;
    // Same for a COPY --from=STAGE|IMAGE (copy.from says which), including
    // each file's uid/gid, since these copies keep ownership.
    virtual std::string stage_sources(const CopyStep& copy) = 0;
    // ADD <url> without --checksum: a digest of the fetched content.
    virtual std::string url_content(const std::string& url) = 0;
    // ADD <git url>: what the checkout is made from — the commit the ref
    // resolves to, the subdir, whether .git is kept (`keep_git_dir`: the
    // step's --keep-git-dir) and the submodules, as BuildKit keys its Git
    // source. The files themselves are not read.
    virtual std::string git_source(const std::string& url, bool keep_git_dir) = 0;
    // RUN --mount=type=bind without from=: the mounted part of the context,
    // digested as context_sources does.
    virtual std::string context_mount(const RunMount& mount) = 0;
};

// True for ADD sources fetched over HTTP(S).
bool is_url_source(std::string_view source);

// The pure core: "sha256:<hex>" of the encoding of (version, parent, fields).
std::string compute_key(std::string_view parent, const std::vector<KeyField>& fields);

// The canonical byte encoding compute_key hashes (exposed for tests/docs).
std::string encode_key_input(std::string_view parent, const std::vector<KeyField>& fields);

// Computes keys of a plan step by step. The key of a step depends on earlier
// steps (and, for COPY --from, on other stages), which are computed and
// memoized on demand; the digester is asked only for the step being keyed.
// Thread-safe: stages built in parallel may share one KeyComputer.
class KeyComputer {
  public:
    KeyComputer(const BuildPlan& plan, SourceDigester& digester);

    // Key of step `step` (index into StagePlan::steps) of the stage with
    // Dockerfile index `stage`.
    std::string step_key(size_t stage, size_t step);
    // Key of the stage's FROM: what its first step chains on.
    std::string base_key(size_t stage);
    // Key of the stage's last filesystem step (its base key if none): what
    // FROM <stage>, COPY --from and RUN --mount=from chain on.
    std::string stage_key(size_t stage);

    // All fields of a step's key, digests included (for --explain).
    std::vector<KeyField> step_fields(size_t stage, size_t step);

  private:
    std::string parent_of(size_t stage, size_t step);
    std::vector<KeyField> extra_fields(const Step& s);

    const BuildPlan& plan_;
    SourceDigester& digester_;
    std::mutex mu_;
    std::map<std::pair<size_t, size_t>, std::string> memo_;  // (stage, step+1) → key; step 0 = FROM
};

}  // namespace strata::planner
