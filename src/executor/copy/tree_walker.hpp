// Walks the contents of a source directory for COPY/ADD, in name order,
// applying the include pattern of --parents and the --exclude patterns the
// way BuildKit's copier does: paths are matched relative to the copied
// directory; a directory that is not selected itself but may hold selected
// entries is walked, and created (with its own metadata) only when something
// inside it is copied.
#pragma once

#include <string>
#include <vector>

#include "executor/copy/source_view.hpp"
#include "frontend/dockerignore.hpp"

namespace strata::executor {

class WalkSink {
  public:
    virtual ~WalkSink() = default;
    // A directory to create, parents always before children.
    virtual void open_dir(const Node& dir, const std::string& rel) = 0;
    // After the directory's last entry.
    virtual void close_dir(const Node& dir, const std::string& rel) = 0;
    // Anything but a directory.
    virtual void leaf(const Node& node, const std::string& rel) = 0;
};

struct WalkFilter {
    // --parents: only paths the pattern matches (or that lie below a match).
    const frontend::DockerIgnore* include = nullptr;
    std::vector<std::string> include_prefix;  // literal leading elements of the pattern
    // --exclude: paths it matches are left out.
    const frontend::DockerIgnore* exclude = nullptr;
};

// Walks the entries below `root` (a directory node of `view`); `root` itself
// is the caller's business.
void walk_tree(const SourceView& view, const Node& root, const WalkFilter& filter, WalkSink& sink);

}  // namespace strata::executor
