// What `--cache-to` exports: the cache entries of the build's steps (min: the
// stages the image is made of; max: every stage) and the memos their keys
// were computed from.
#include <set>

#include "executor/build_session.hpp"

namespace strata::executor {

cache::CacheExport collect_cache_export(BuildSession& s) {
    std::set<size_t> stages;
    if (s.request.cache_export == BuildRequest::CacheExportMode::kMax) {
        for (const auto& sp : s.plan.stages)
            stages.insert(sp.index);
    } else {
        // The target and the stages it is built FROM: their steps made the
        // image's layers. A stage only read by COPY --from is not among them
        // (BuildKit's min: "only the layers of the resulting image").
        const planner::StagePlan* sp = &s.plan.stage(s.plan.target);
        while (true) {
            stages.insert(sp->index);
            if (sp->base_kind != planner::StagePlan::BaseKind::kStage) break;
            sp = &s.plan.stage(sp->base_stage);
        }
    }
    cache::CacheExport out;
    for (const StepReport& r : s.reports()) {
        if (!stages.contains(r.stage) || r.outcome == StepReport::Outcome::kMetadata) continue;
        std::optional<cache::CacheEntry> e = s.cache.get(r.key);
        if (e && !cache::CacheIndex::usable(*e, s.store.content())) e.reset();
        if (!e && s.request.cache_from) e = s.request.cache_from->get(r.key);
        if (e) out.entries.push_back(std::move(*e));
    }
    // Every memo the keys read: an importer computes a COPY --from key from
    // the memo instead of unpacking (and downloading) the source stage.
    out.memos = s.cache.memos_used();
    return out;
}

}  // namespace strata::executor
