// Internal to COPY/ADD: turning the sources as written into the items to
// copy — wildcard expansion, symlink following, --parents pivots, URL
// downloads, heredocs — with Docker's errors for what is missing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "executor/copy/copy_step.hpp"
#include "executor/copy/source_view.hpp"
#include "frontend/dockerignore.hpp"

namespace strata::executor {

struct CopyItem {
    enum class Kind { kNode, kDownload, kInline };
    Kind kind = Kind::kNode;
    size_t source_index = 0;  // which source produced it (heredocs: after the sources)
    std::string display;      // the source as written, for messages
    std::string base;         // its name when placed inside a directory destination
    Node node;                // kNode: the entry, symlinks followed
    // kNode of another view than the step's (an ADD <git url>'s checkout),
    // and what keeps its files; null: the step's source.
    std::shared_ptr<const SourceView> view;
    std::shared_ptr<const void> keep;
    bool wildcard_match = false;
    std::string match_rel;  // wildcard matches: path below the wildcard's base directory
    // --parents: copy the node's contents filtered by this pattern.
    std::optional<frontend::DockerIgnore> include;
    std::vector<std::string> include_prefix;
    FetchedUrl download;  // kDownload
    std::string content;  // kInline
};

struct PlannedSources {
    std::vector<CopyItem> items;
    size_t matched = 0;                     // items found before top-level --exclude
    std::vector<size_t> matched_by_source;  // the same per source (heredocs last)
};

// `fetch_dir` (for downloads) may be null when URLs are to be skipped.
PlannedSources plan_sources(const CopyRequest& request, const SourceView& source,
                            const CopyEnvironment* env, const std::filesystem::path* fetch_dir,
                            const frontend::DockerIgnore* exclude);

// "COPY" or "ADD".
inline const char* instruction_name(const CopyRequest& r) {
    return r.is_add ? "ADD" : "COPY";
}

}  // namespace strata::executor
