#include "executor/copy/copy.hpp"

#include "executor/copy/copy_request.hpp"

namespace strata::executor {

CopyResult run_copy_step(const planner::CopyStep& step, const SourceView& source,
                         const LayerStackView& parent, const std::filesystem::path& layer_dir,
                         const CopyEnvironment& env, std::optional<int64_t> source_date_epoch) {
    return run_copy(copy_request(step, source_date_epoch), source, parent, layer_dir, env);
}

}  // namespace strata::executor
