#include "executor/copy/copy_request.hpp"

namespace strata::executor {

CopyRequest copy_request(const planner::CopyStep& step, std::optional<int64_t> source_date_epoch) {
    CopyRequest r;
    r.is_add = step.is_add;
    r.sources = step.sources;
    for (const planner::InlineFile& f : step.inline_sources)
        r.inline_sources.push_back({f.name, f.content});
    r.dest = step.dest;
    r.workdir = step.workdir.empty() ? "/" : step.workdir;
    r.chown = step.chown;
    r.chmod = step.chmod;
    r.checksum = step.checksum;
    r.link = step.link;
    r.parents = step.parents;
    r.keep_git_dir = step.keep_git_dir;
    r.unpack = step.unpack;
    r.excludes = step.excludes;
    r.source_date_epoch = source_date_epoch;
    return r;
}

}  // namespace strata::executor
