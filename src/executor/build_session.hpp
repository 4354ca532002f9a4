// Internal to the builder: the state one build shares between the stages it
// runs (in parallel): the plan, the keys, the lazily hashed context, the
// results of finished stages, the job slots, progress ids.
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/cores.hpp"
#include "base/thread_pool.hpp"
#include "cache/build_record.hpp"
#include "cache/cache_index.hpp"
#include "cache/context_snapshot.hpp"
#include "executor/builder.hpp"
#include "executor/copy/copy.hpp"
#include "executor/run/build_secrets.hpp"
#include "executor/run/cache_mount_dirs.hpp"
#include "executor/run/context_mask.hpp"
#include "executor/run/ssh_agent_proxy.hpp"
#include "executor/stage_files.hpp"
#include "executor/store_image_resolver.hpp"
#include "frontend/locator.hpp"
#include "planner/cache_key.hpp"

namespace strata::executor {

// What a finished stage leaves: the image it would be.
struct StageResult {
    store::ImageConfig config;
    std::vector<store::LayerRecord> layers;
    size_t inherited_history = 0;  // history entries that came from the base image
};

// At most N stages run at once. A stage waiting for another one gives its
// slot back while it waits, so that a full set of waiting stages can never
// starve the one they wait for.
class JobSlots {
  public:
    // 0: one per core this process may use (--jobs' default).
    explicit JobSlots(unsigned n) : free_(n != 0 ? n : usable_cores()) {}
    void acquire() {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return free_ > 0; });
        --free_;
    }
    void release() {
        {
            std::lock_guard lock(mu_);
            ++free_;
        }
        cv_.notify_one();
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    unsigned free_;
};

class BuildSession {
  public:
    BuildSession(const BuildRequest& request, store::ImageStore& store, ProgressSink& progress,
                 RunExecutor* run);

    const BuildRequest& request;
    store::ImageStore& store;
    ProgressSink& progress;
    RunExecutor* run;
    cache::CacheIndex cache;
    frontend::Locator locator;
    StoreImageResolver resolver;
    frontend::DockerIgnore ignore;
    planner::BuildPlan plan;
    std::unique_ptr<BuildDigester> digester;
    std::unique_ptr<planner::KeyComputer> keys;
    JobSlots slots;
    std::atomic<bool> cancelled{false};

    // A RUN step is going to run: the executor makes its container's start
    // ahead (RunExecutor::warm_up: the build's network, the isolation, a
    // prepared start) on the thread pool, once per build. Announced by the
    // builder for a --no-cache RUN before the context is hashed, or by the
    // first step of a stage that runs for real when a RUN comes after it. A
    // RUN waits for it (wait_warm_up) before it starts, to use what it made.
    void warm_up_run(const planner::RunStep& step);
    void wait_warm_up();
    // --secret and --ssh: checked when the build starts; agents started for
    // key files live as long as the session (the build).
    SecretStore secrets;
    SshAgents ssh_agents;
    // What RUN --mount=type=ssh binds: a read-only proxy of an agent above
    // (ssh_agent_proxy.hpp). Declared after it: stopped first.
    SshForwards ssh_forwards;
    CacheMountDirs cache_mounts;  // RUN --mount=type=cache directories

    int next_id() { return ++last_id_; }

    // The build context, hashed on first use (with the store's stat cache);
    // or, given a name, the local named context (--build-context) of that
    // name, with its own .dockerignore.
    const cache::ContextSnapshot& snapshot(const std::string& name = {});
    bool has_snapshot(const std::string& name = {}) const;
    // The directory of the build context ("") or of a local named context.
    const std::filesystem::path& context_dir(const std::string& name) const;
    // What a RUN --mount=type=bind of that context mounts (lowest first): the
    // directory, under a mask of what its .dockerignore hides (context_mask.hpp).
    std::vector<std::filesystem::path> context_mount_sources(const std::string& name);
    // Hands in a snapshot already taken (a build summary's check): snapshot()
    // reports it as usual without walking the context again. Before the
    // stages start only.
    void preload_snapshot(cache::ContextSnapshot snapshot) {
        snapshot_.emplace(std::move(snapshot));
    }
    // The context hashed with `ignore` and the store's stat cache, without
    // progress output.
    cache::ContextSnapshot hash_context_quietly() const;
    const BuildContext& context(const std::string& name = {});

    // Unpacked directories of `layers` (lowest first), unpacking as needed.
    std::vector<std::filesystem::path> unpack(const std::vector<store::LayerRecord>& layers);
    // Fetches the blobs of `layers` that only an imported cache has (the
    // one place a --cache-from blob comes in: before unpacking, before the
    // image is written).
    void provide(const std::vector<store::LayerRecord>& layers);
    // The layers of what a COPY --from / RUN --mount=from names.
    std::vector<store::LayerRecord> layers_of(const planner::SourceRef& ref);
    // What a COPY --from / RUN --mount=from reads: the stored layers of the
    // stage or image; or, of a stage whose last layer is still being
    // stored, its directories where they were made, under a lease to hold
    // while reading (StageFiles). Waits for the stage to finish its steps;
    // the calling stage must hold a job slot (given back while waiting).
    SourceDirs source_dirs(const planner::SourceRef& ref);
    // Stage `index`'s files before its result (StageFiles).
    StageFiles& stage_files(size_t index);

    // The result of stage `index` (Dockerfile index), waiting for it. The
    // calling stage must hold a job slot; it is given back while waiting.
    const StageResult& stage_result(size_t index);
    void set_futures(std::map<size_t, std::shared_future<StageResult>> futures);

    // What each step did, and its record for the next --explain; both in a
    // stable order (stages in build order, steps in order).
    void report(StepReport r, cache::StepRecord record);
    std::vector<StepReport> reports();
    std::vector<cache::StepRecord> step_records();

    // The last build of the same Dockerfile and context, if any (read on
    // first use: only --explain needs it).
    const std::optional<cache::BuildRecord>& previous();
    std::optional<cache::FileListing> previous_files;  // loaded on first need
    std::once_flag previous_files_once;
    // Every non-directory entry of the snapshot with its digest (--explain).
    const cache::FileListing& listing();

    // Releases what a finished container left (its scratch directories,
    // its emptied cgroup) on another thread, off the build's path; the
    // session's end waits for it.
    void release_later(std::vector<std::shared_ptr<void>> leftovers);
    // Runs `task` on another thread, off the build's path; the session's end
    // waits for it. For work no step needs (hints for the next build): what
    // it throws is dropped.
    void run_later(std::function<void()> task);

  private:
    struct NamedContextState {
        std::filesystem::path dir;
        bool dockerignore = true;
        std::once_flag once;
        frontend::DockerIgnore ignore;
        std::optional<cache::ContextSnapshot> snapshot;
        std::unique_ptr<BuildContext> view;
        ContextMask mask;
    };
    NamedContextState& named_context(const std::string& name) const;

    std::atomic<int> last_id_{0};
    std::map<std::string, std::unique_ptr<NamedContextState>> named_contexts_;
    std::once_flag snapshot_once_;
    std::optional<cache::ContextSnapshot> snapshot_;
    std::once_flag context_once_;
    std::unique_ptr<BuildContext> context_;
    ContextMask mask_;
    size_t stage_order(size_t index) const;

    std::map<size_t, std::shared_future<StageResult>> futures_;
    std::map<size_t, std::unique_ptr<StageFiles>> files_;  // one per stage, as futures_
    std::mutex reports_mu_;
    std::vector<StepReport> reports_;
    std::vector<cache::StepRecord> records_;
    std::once_flag listing_once_;
    cache::FileListing listing_;
    std::once_flag previous_once_;
    std::optional<cache::BuildRecord> previous_;
    std::atomic<bool> warm_up_started_{false};
    std::once_flag warm_up_waited_;
    TaskGroup warm_up_;  // before the plan and `run` go
    // Last: destroyed first, releasing what is still queued.
    TaskGroup releases_;
};

// The context's .dockerignore (or <Dockerfile>.dockerignore), read inside
// the context.
frontend::DockerIgnore context_dockerignore(const BuildRequest& r);
// The .dockerignore at the top of `dir` (read inside it), or none.
frontend::DockerIgnore directory_dockerignore(const std::filesystem::path& dir);

// The progress line of "[internal] load build context".
std::string context_transfer_line(const cache::ContextSnapshot& snapshot);

// What --cache-to exports after the stages ran (cache_collect.cpp).
cache::CacheExport collect_cache_export(BuildSession& s);

// Runs one planned stage: its base, then every step.
StageResult run_stage(BuildSession& session, const planner::StagePlan& stage);

}  // namespace strata::executor
