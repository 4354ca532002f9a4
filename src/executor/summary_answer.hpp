// Internal to the builder: answering a rebuild from the build summary
// (cache/build_summary.hpp) of the last build of the same Dockerfile and
// context, and writing that summary after a build made the usual way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cache/build_summary.hpp"
#include "executor/build_session.hpp"
#include "executor/builder.hpp"

namespace strata::executor {

// The digest of everything `r` asks that can change a build's result
// (BuildSummary::inputs), including the identity of this strata binary;
// not --no-cache (see the definition).
std::string summary_inputs(const BuildRequest& r);

// Whether `r` may be answered from a summary: not --no-cache(-filter),
// --explain or a scratch build.
bool may_answer_from_summary(const BuildRequest& r);

// Checks `sum` (already matched on inputs and generation) against the
// store and the context. When it holds: reports the fully cached build to
// the session's progress as the usual path would and returns its result.
// nullopt (nothing reported): build the usual way.
std::optional<BuildResult> answer_from_summary(BuildSession& s, const cache::BuildSummary& sum);

// The summary of a build just made the usual way (`generation_before` read
// before its first cache lookup), or nullopt when the next build must not
// be answered from one: warnings to print, ADD <url> sources, a cache
// entry written twice in the build, or another process changing the cache
// index meanwhile.
std::optional<cache::BuildSummary> summarize(BuildSession& s, const BuildResult& result,
                                             const std::string& inputs, uint64_t generation_before,
                                             bool had_notes);

}  // namespace strata::executor
