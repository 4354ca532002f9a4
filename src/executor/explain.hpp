// --explain: why a step missed the cache, in words, from the record of the
// last build of the same Dockerfile and context (cache/build_record.hpp).
// Pure functions over records, so that every rule is testable without a build.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cache/build_record.hpp"

namespace strata::executor {

struct MissFacts {
    const cache::StepRecord* now = nullptr;     // this build's step (fields filled)
    const cache::StepRecord* before = nullptr;  // the same step of the last build, if any
    bool had_record = false;                    // there was a last build to compare with
    bool no_cache = false;                      // --no-cache / --no-cache-filter
    // Set when the parent key differs: what changed below the step, e.g.
    // "[2/4] COPY . /src was rebuilt" or "the base image busybox:latest changed".
    std::string parent_change;
    // For a changed "context-sources" field: the files that differ.
    std::function<std::vector<std::string>()> changed_files;
};

// One line per reason, most specific first; never empty.
std::vector<std::string> explain_miss(const MissFacts& facts);

// The entries under `roots` (context-relative paths; "" is the whole
// context) whose digest differs between two listings: "changed: a/b",
// "added: c", "removed: d". At most `limit` lines, then "... and N more".
std::vector<std::string> diff_listings(const cache::FileListing& before,
                                       const cache::FileListing& now,
                                       const std::vector<std::string>& roots, size_t limit = 10);

}  // namespace strata::executor
