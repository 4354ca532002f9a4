// One stage of a build: its base, then each step — the cache key, then a hit
// (nothing but bookkeeping) or the step run for real and its layer stored.
#include "executor/stage_runner.hpp"

#include "base/error.hpp"
#include "executor/config_effect.hpp"
#include "store/image_config_time.hpp"

namespace strata::executor {

namespace {

// Thrown between steps once another stage has failed.
struct Cancelled : Error {
    Cancelled() : Error(ErrorKind::kInternal, "cancelled: another stage failed") {}
};

}  // namespace

StageResult StageRunner::run() {
    start();
    try {
        for (size_t i = 0; i < sp_.steps.size(); ++i) {
            if (s_.cancelled) throw Cancelled();
            step(i);
        }
        // The filesystem is complete: a stage reading it need not wait
        // for the last layer's tar (StageFiles).
        if (pending_) {
            s_.stage_files(sp_.index).publish(parent_dirs());
            published_ = true;
        }
        store_pending();
    } catch (...) {
        // The step that succeeded before the failure keeps its layer and
        // cache entry (a retry starts from it); its own error, if any,
        // gives way to the one being thrown.
        try {
            store_pending();
        } catch (...) {
        }
        throw;
    }
    return std::move(r_);
}

void StageRunner::start() {
    switch (sp_.base_kind) {
        case planner::StagePlan::BaseKind::kScratch:
            r_.config = scratch_config(sp_.platform);
            break;
        case planner::StagePlan::BaseKind::kImage: {
            const auto& rec = s_.resolver.record(sp_.base_image.digest);
            r_.config = base_config(s_.resolver.config(sp_.base_image.digest));
            r_.layers = rec.layers;
            r_.inherited_history = r_.config.history.size();
            break;
        }
        case planner::StagePlan::BaseKind::kStage:
            r_ = s_.stage_result(sp_.base_stage);
            break;
    }
    r_.config.diff_ids.clear();  // filled from the layers when the image is written
    if (!sp_.from_display.empty()) {
        Vertex v(s_.progress, s_.next_id(), sp_.from_display);
        v.done();
    }
    apply_effect(r_.config, sp_.start_effect);
}

void StageRunner::step(size_t i) {
    const Step& st = sp_.steps[i];
    StepReport rep;
    rep.stage = sp_.index;
    rep.step = i;
    rep.name = st.display;
    rep.instruction = first_line(st.instruction.original);
    std::unique_ptr<Vertex> v;
    if (!st.display.empty()) v = std::make_unique<Vertex>(s_.progress, s_.next_id(), st.display);
    // The vertex outlives this call when a RUN's layer is stored later.
    const Vertex* shown = v.get();
    struct ReleaseLeases {
        std::vector<std::shared_ptr<void>>& leases;
        ~ReleaseLeases() { leases.clear(); }
    } release{step_leases_};
    try {
        rep.key = s_.keys->step_key(sp_.index, i);
        cache::StepRecord record = step_record(i, rep);
        std::optional<std::string> created;
        if (st.changes_filesystem) {
            std::optional<cache::CacheEntry> hit;
            if (!st.no_cache) {
                hit = s_.cache.get(rep.key);
                if (hit && !cache::CacheIndex::usable(*hit, s_.store.content())) hit.reset();
                if (!hit && s_.request.cache_from) hit = s_.request.cache_from->get(rep.key);
            }
            if (hit) {
                created = hit->created;
                if (hit->layer) add_layer(*hit->layer);
                rep.outcome = StepReport::Outcome::kCached;
                if (v) v->cached();
            } else {
                if (s_.request.explain) explain(i, st, record, rep, v.get());
                rep.outcome = StepReport::Outcome::kBuilt;
                if (st.kind != StepKind::kRun) warm_up_run_after(i);
                if (st.kind == StepKind::kRun) {
                    created = run_and_store_later(st, i, rep.key, v);
                } else if (made_before_run(st, i, rep.key)) {
                    created = make_and_store_later(st, i, rep.key, v);
                } else {
                    // The layer of a RUN before it is written meanwhile
                    // (its directory is the top of the parent this step
                    // sees), and still may be after this one's is done.
                    const store::LayerRecord layer = execute(st, i, v.get());
                    created = store::format_timestamp(store::now_timestamp());
                    if (!s_.request.scratch) s_.cache.put({rep.key, *created, layer, st.display});
                    add_layer(layer);
                    if (v) v->done();
                }
            }
        }
        apply_effect(r_.config, st.effect);
        add_history(r_.config, st.effect, st.changes_filesystem ? created : std::nullopt);
        rep.seconds = shown ? shown->seconds() : 0;
        s_.report(std::move(rep), std::move(record));
    } catch (const frontend::ParseError& e) {
        if (v) v->failed(e.diagnostic().message);
        throw;
    } catch (const Cancelled&) {
        throw;
    } catch (const RunFailed& e) {
        if (v) v->failed(e.what());
        std::string hint;
        if (!e.output_tail().empty()) hint = "the last lines it printed:\n" + e.output_tail();
        throw frontend::ParseError(s_.locator.error(st.instruction, e.what(), hint), e.kind());
    } catch (const Error& e) {
        if (v) v->failed(e.what());
        throw frontend::ParseError(s_.locator.error(st.instruction, e.what()), e.kind());
    }
}

std::vector<std::filesystem::path> StageRunner::parent_dirs() {
    if (!pending_) return s_.unpack(r_.layers);
    std::vector<store::LayerRecord> chain = r_.layers;
    chain.insert(chain.end(), after_pending_.begin(), after_pending_.end());
    std::vector<std::filesystem::path> dirs = s_.unpack(chain);
    dirs.insert(dirs.begin() + static_cast<std::ptrdiff_t>(r_.layers.size()),
                pending_->dir->path());
    return dirs;
}

std::vector<std::filesystem::path> StageRunner::source_dirs(const planner::SourceRef& ref) {
    SourceDirs source = s_.source_dirs(ref);
    if (source.layers) return s_.unpack(*source.layers);
    step_leases_.push_back(std::move(source.lease));
    return std::move(source.dirs);
}

void StageRunner::warm_up_run_after(size_t i) {
    if (warmed_) return;
    warmed_ = true;
    for (size_t j = i + 1; j < sp_.steps.size(); ++j)
        if (sp_.steps[j].kind == StepKind::kRun) return s_.warm_up_run(sp_.steps[j].run);
}

void StageRunner::add_layer(const store::LayerRecord& layer) {
    if (pending_)
        after_pending_.push_back(layer);
    else
        r_.layers.push_back(layer);
}

std::filesystem::path StageRunner::previous_layer(size_t i) {
    const auto id = previous_layer_id(i);
    if (!id || !s_.store.layers().has(*id)) return {};
    return s_.store.layers().path(*id);
}

std::optional<store::Digest> StageRunner::previous_layer_id(size_t i) {
    const auto& prev = s_.previous();
    if (!prev) return std::nullopt;
    for (const auto& b : prev->steps) {
        if (b.stage != sp_.index || b.step != i) continue;
        const auto entry = s_.cache.get(b.key);
        if (!entry || !entry->layer) return std::nullopt;
        return entry->layer->diff_id;
    }
    return std::nullopt;
}

StageResult run_stage(BuildSession& session, const planner::StagePlan& stage) {
    return StageRunner(session, stage).run();
}

}  // namespace strata::executor
