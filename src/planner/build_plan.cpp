#include "planner/build_plan.hpp"

#include <fmt/format.h>

namespace strata::planner {

const StagePlan& BuildPlan::stage(size_t index) const {
    for (const StagePlan& s : stages) {
        if (s.index == index) return s;
    }
    throw Error(ErrorKind::kInternal, fmt::format("stage {} is not part of the build plan", index));
}

std::string unused_build_args_warning(const BuildPlan& plan) {
    if (plan.unused_build_args.empty()) return {};
    return fmt::format("[Warning] One or more build-args [{}] were not consumed",
                       fmt::join(plan.unused_build_args, " "));
}

}  // namespace strata::planner
