// What a stage records for the next build's --explain, and what it says
// when a step misses the cache.
#include <fmt/format.h>

#include "executor/explain.hpp"
#include "executor/stage_runner.hpp"

namespace strata::executor {

cache::StepRecord StageRunner::step_record(size_t i, const StepReport& rep) {
    cache::StepRecord rec;
    rec.stage = sp_.index;
    rec.step = i;
    rec.name = rep.name;
    rec.instruction = rep.instruction;
    rec.key = rep.key;
    rec.parent_key = parent_key(i);
    for (auto& f : s_.keys->step_fields(sp_.index, i))
        rec.fields.emplace_back(std::move(f.name), std::move(f.value));
    return rec;
}

std::string StageRunner::parent_key(size_t i) {
    for (size_t j = i; j-- > 0;)
        if (sp_.steps[j].changes_filesystem) return s_.keys->step_key(sp_.index, j);
    return s_.keys->base_key(sp_.index);
}

void StageRunner::explain(size_t i, const Step& st, const cache::StepRecord& now, StepReport& rep,
                          Vertex* v) {
    MissFacts f;
    f.now = &now;
    f.no_cache = st.no_cache;
    f.had_record = s_.previous().has_value();
    if (s_.previous()) {
        for (const auto& b : s_.previous()->steps)
            if (b.stage == sp_.index && b.step == i) f.before = &b;
    }
    if (f.before && f.before->parent_key != now.parent_key) f.parent_change = parent_change(i);
    if (st.kind == StepKind::kCopy && st.copy.from.kind == planner::SourceRef::Kind::kContext &&
        st.copy.from.context.empty()) {
        f.changed_files = [&]() -> std::vector<std::string> {
            std::call_once(s_.previous_files_once, [&] {
                s_.previous_files =
                    cache::BuildRecords(s_.store.cache_dir()).load_files(s_.request.explain_id);
            });
            if (!s_.previous_files) return {};
            return diff_listings(*s_.previous_files, s_.listing(),
                                 s_.digester->context_roots(st.copy));
        };
    }
    rep.explanation = explain_miss(f);
    if (v)
        for (const auto& line : rep.explanation)
            v->log("explain: " + line);
}

std::string StageRunner::parent_change(size_t i) {
    for (size_t j = i; j-- > 0;) {
        const Step& p = sp_.steps[j];
        if (!p.changes_filesystem) continue;
        return fmt::format("the step it builds on changed: {}",
                           p.display.empty() ? first_line(p.instruction.original) : p.display);
    }
    switch (sp_.base_kind) {
        case planner::StagePlan::BaseKind::kImage: {
            std::string before;
            if (s_.previous()) {
                auto it = s_.previous()->base_refs.find(sp_.index);
                if (it != s_.previous()->base_refs.end()) before = it->second;
            }
            return fmt::format("the base image changed: {} -> {}@{}", before.empty() ? "?" : before,
                               sp_.base_ref, sp_.base_image.digest);
        }
        case planner::StagePlan::BaseKind::kStage:
            return "the stage it is built FROM changed";
        case planner::StagePlan::BaseKind::kScratch:
            break;
    }
    return "the step it builds on changed";
}

}  // namespace strata::executor
