// A planned COPY/ADD (planner::CopyStep, variables already expanded) as the
// request the COPY engine takes.
#pragma once

#include <cstdint>
#include <optional>

#include "executor/copy/copy_step.hpp"
#include "planner/build_plan.hpp"

namespace strata::executor {

CopyRequest copy_request(const planner::CopyStep& step,
                         std::optional<int64_t> source_date_epoch = std::nullopt);

}  // namespace strata::executor
