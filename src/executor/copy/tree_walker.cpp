#include "executor/copy/tree_walker.hpp"

#include "executor/copy/path_parts.hpp"

namespace strata::executor {

namespace {

struct Level {
    const Node* node;
    std::string rel;
    bool open;
    Level* up;
};

class Walker {
  public:
    Walker(const SourceView& view, const WalkFilter& filter, WalkSink& sink)
        : view_(view), filter_(filter), sink_(sink) {}

    void walk(Level& level) {
        for (const Node& child : view_.children(*level.node)) {
            const std::string rel = level.rel.empty() ? child.name : level.rel + "/" + child.name;
            const bool included = !filter_.include || filter_.include->excluded(rel);
            const bool excluded = filter_.exclude && filter_.exclude->excluded(rel);
            if (child.type == FileType::kDirectory) {
                Level sub{&child, rel, false, &level};
                if (included && !excluded) {
                    open(&level);
                    sink_.open_dir(child, rel);
                    sub.open = true;
                } else {
                    if (excluded && filter_.exclude->can_skip_dir(rel)) continue;
                    if (!included && !may_match_below(rel)) continue;
                }
                walk(sub);
                if (sub.open) sink_.close_dir(child, rel);
                child.dir->close();  // one directory's descriptors at a time per level
            } else if (included && !excluded) {
                open(&level);
                sink_.leaf(child, rel);
            }
        }
    }

  private:
    // Creates the directories of a walk that were deferred, outermost first.
    void open(Level* level) {
        if (level->open) return;
        open(level->up);
        sink_.open_dir(*level->node, level->rel);
        level->open = true;
    }

    // Whether the include pattern can match something below `rel`: its
    // literal leading elements must agree with rel's.
    bool may_match_below(const std::string& rel) const {
        const auto parts = split_path(rel);
        const auto& prefix = filter_.include_prefix;
        const size_t n = std::min(parts.size(), prefix.size());
        for (size_t i = 0; i < n; ++i)
            if (parts[i] != prefix[i]) return false;
        return true;
    }

    const SourceView& view_;
    const WalkFilter& filter_;
    WalkSink& sink_;
};

}  // namespace

void walk_tree(const SourceView& view, const Node& root, const WalkFilter& filter, WalkSink& sink) {
    Walker walker(view, filter, sink);
    Level top{&root, "", true, nullptr};
    walker.walk(top);
}

}  // namespace strata::executor
