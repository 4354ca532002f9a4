// StageRunner: one stage of a build — its base, then each step: the cache
// key, then a hit (nothing but bookkeeping) or the step run for real and its
// layer stored. Internal to the executor; run_stage() (build_session.hpp) is
// its entry. Its parts live in the files named in the class.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/temp_dir.hpp"
#include "base/thread_pool.hpp"
#include "executor/build_session.hpp"
#include "executor/copy/copy.hpp"
#include "executor/copy/copy_reuse.hpp"
#include "executor/run_dirs.hpp"
#include "store/layer_writer.hpp"

namespace strata::executor {

inline std::string first_line(const std::string& s) {
    return s.substr(0, s.find('\n'));
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

class StageRunner {
  public:
    StageRunner(BuildSession& s, const planner::StagePlan& sp) : s_(s), sp_(sp) {}

    StageResult run();

  private:
    using Step = planner::Step;
    using StepKind = planner::StepKind;

    // --- the stage and its steps (stage_runner.cpp)
    // The stage's starting point: its base's config and layers.
    void start();

    // Step i: its cache key, then a hit or the step run and its layer stored.
    void step(size_t i);

    // The directories of the stage's layers so far, lowest first: the
    // stored ones, the RUN layer still being written, the layers after it.
    std::vector<std::filesystem::path> parent_dirs();

    // The first step of the stage to run for real, when it is not a RUN:
    // the first RUN after it is warmed up meanwhile (BuildSession::
    // warm_up_run). The RUNs after a RUN are prepared while it runs
    // (run_follows).
    void warm_up_run_after(size_t i);

    // A step's finished layer: on top of the stage's, or behind the RUN
    // layer still being written.
    void add_layer(const store::LayerRecord& layer);

    // The layer the last build of this Dockerfile made for step `i`, when it
    // is still unpacked: the COPY links the files that did not change from it.
    std::filesystem::path previous_layer(size_t i);

    std::optional<store::Digest> previous_layer_id(size_t i);

    // The directories of another stage or an image a COPY or RUN --mount
    // reads, held until the step ends.
    std::vector<std::filesystem::path> source_dirs(const planner::SourceRef& ref);

    // --- what --explain records and says (stage_explain.cpp)
    // What the next build's --explain compares with.
    cache::StepRecord step_record(size_t i, const StepReport& rep);

    // The key of what step i builds on: the last earlier step that changes the
    // filesystem, or the stage's base.
    std::string parent_key(size_t i);

    void explain(size_t i, const Step& st, const cache::StepRecord& now, StepReport& rep,
                 Vertex* v);

    // Says what changed under step i: the nearest earlier filesystem step of
    // the stage (which was rebuilt), or its base.
    std::string parent_change(size_t i);

    // --- COPY, ADD and WORKDIR layers (stage_copy.cpp)
    // A COPY, ADD or WORKDIR step not followed by a RUN: its layer, now.
    store::LayerRecord execute(const Step& st, size_t i, Vertex* v);

    // Fills `dir` with what the COPY/ADD or WORKDIR step makes; with
    // `direct`, a COPY's regular files stay in their sources (CopyResult).
    CopyResult make_layer(const Step& st, size_t i, const std::filesystem::path& dir, Vertex* v,
                          bool direct);

    store::LayerWriteOptions layer_options() const;

    void log_layer(Vertex& v, const store::LayerBlob& blob, double seconds) const;

    std::filesystem::path copy_index_dir() const { return s_.cache.dir() / "copy-index"; }

    // Points the files of a direct COPY that did not change since layer
    // `previous` (whose index is `index`) was written at their bytes in its
    // blob.
    void take_unchanged_bytes(CopyResult& copy, const store::Digest& previous,
                              const CopyReuseIndex& index);

    static store::LayerRecord layer_record(const store::LayerBlob& blob);

    // A COPY or ADD from the context, a stage, an image or scratch.
    CopyResult copy(const Step& st, size_t i, const std::filesystem::path& layer_dir, Vertex* v,
                    bool direct);

    // --- RUN steps, and layers written while the next step runs (stage_run.cpp)
    // A RUN step's layer is written while the next step runs (and so is
    // the layer of a COPY, ADD or WORKDIR right before a RUN:
    // make_and_store_later). When the command has exited its upper
    // directory is complete: the next RUN
    // mounts it as its top lower layer, and meanwhile another thread writes
    // and hashes its tar (the blob, then the cache entry), then leaves the
    // container's scratch directories and cgroup to be removed on another
    // thread (nothing waits for that but the build's end). A COPY or
    // WORKDIR after it sees it as the top of its parent too. It becomes
    // layers/<diffID>/ and ends its progress vertex in store_pending(),
    // once no container has it mounted: after the next RUN step's command,
    // and at the stage's end. The layers of the COPY,
    // WORKDIR and cached steps between wait in after_pending_ meanwhile, so
    // that layers stay in step order and no step waits for the write but
    // the next RUN, once its command has run. One at most
    // (docs/performance.md, per-RUN cost).
    struct PendingLayer {
        const Step* step = nullptr;
        std::string key;
        std::string created;
        std::unique_ptr<Vertex> vertex;
        std::chrono::steady_clock::time_point t0, written;
        store::LayerBlob blob;
        std::optional<TempDir> dir;
        // What the container left (scratch directories, its emptied
        // cgroup), handed by `write` to BuildSession::release_later.
        std::vector<std::shared_ptr<void>> leftovers;
        TaskGroup write;  // last: destroyed first, waiting for the write
    };

    std::string run_and_store_later(const Step& st, size_t i, const std::string& key,
                                    std::unique_ptr<Vertex>& v);

    // A COPY, ADD or WORKDIR step right before a RUN (made_before_run) makes its
    // layer's directory, and its tar is written while the RUN's container
    // starts and runs over that directory, as for a RUN's layer. Without a
    // RUN next, a COPY goes straight to its tar (execute).
    std::string make_and_store_later(const Step& st, size_t i, const std::string& key,
                                     std::unique_ptr<Vertex>& v);

    // Whether step i (not a RUN) makes its layer's directory and stores it
    // later: the next step of the stage that changes the filesystem is a
    // RUN, no layer is pending before this one (one at most), and the step
    // is not one rebuilt with the inputs of a layer still unpacked
    // (--no-cache: without it, such an entry was a cache hit): that one's
    // tar is compared with the stored blob and the RUN mounts the directory
    // there, so a new directory would only be thrown away.
    bool made_before_run(const Step& st, size_t i, const std::string& key);

    // Makes `dir` the pending layer: its tar is written and its cache entry
    // put on another thread; store_pending() adopts it.
    void store_later(const Step& st, const std::string& key, const std::string& created,
                     std::unique_ptr<Vertex>& v, TempDir dir,
                     std::vector<std::shared_ptr<void>> leftovers,
                     const store::LayerWriteOptions& lw);

    // Waits for the pending layer's write and adopts it (layers/<diffID>/),
    // once no other stage reads it where it is (StageFiles).
    void store_pending();

    // A RUN step's container over the stage's layers, `upper` its layer.
    void run(const Step& st, size_t i, const TempDir& upper, TempDir work, Vertex* v,
             std::vector<std::shared_ptr<void>>& leftovers);

    BuildSession& s_;
    const planner::StagePlan& sp_;
    StageResult r_;
    std::unique_ptr<PendingLayer> pending_;
    std::vector<store::LayerRecord> after_pending_;  // finished after pending_, in order
    bool warmed_ = false;                            // warm_up_run_after ran, or a RUN did
    bool published_ = false;                         // StageFiles::publish'd the pending dir
    // What the step being run holds: leases on other stages' directories
    // (BuildSession::source_dirs), released when it ends.
    std::vector<std::shared_ptr<void>> step_leases_;
    RunDirsAhead run_dirs_{s_.store.tmp_dir()};  // the next RUN's, made while one runs
};

}  // namespace strata::executor
