#include "executor/copy/copy_items.hpp"

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/go/path.hpp"
#include "executor/copy/git_source.hpp"
#include "executor/copy/path_parts.hpp"
#include "frontend/git_url.hpp"

namespace strata::executor {

namespace {

bool is_context(const SourceView& v) {
    return dynamic_cast<const BuildContext*>(&v) != nullptr;
}

[[noreturn]] void not_found(const CopyRequest& r, const SourceView& v, const std::string& what) {
    std::string msg = std::string(instruction_name(r)) + " failed: \"" + what +
                      "\": not found in " + v.description();
    if (is_context(v)) msg += " (or excluded by .dockerignore)";
    throw Error(ErrorKind::kNotFound, msg);
}

// A source path as an absolute, clean path in the view. In the build context
// a path that climbs above the root is an error (BuildKit silently re-roots it).
std::string clean_source(const CopyRequest& r, const SourceView& v, const std::string& src) {
    if (is_context(v) && (src.empty() || src.front() != '/')) {
        const std::string rel = go::path::clean(src);
        if (rel == ".." || rel.starts_with("../"))
            throw Error(ErrorKind::kUsage, std::string(instruction_name(r)) + " failed: \"" + src +
                                               "\" is outside the build context");
    }
    return go::path::clean("/" + src);
}

std::vector<std::string> literal_prefix(const std::string& pattern) {
    std::vector<std::string> out;
    for (auto& part : split_path(pattern)) {
        if (contains_wildcards(part)) break;
        out.push_back(part);
    }
    return out;
}

// filepath.Walk of the wildcard's base directory, keeping what the pattern
// matches. '*' never crosses '/', so only entries at the pattern's depth can
// match and the walk stops there.
void collect_matches(const SourceView& v, const Node& dir, const std::string& rel, size_t depth,
                     const std::string& pattern, size_t pattern_depth,
                     std::vector<std::string>& out) {
    for (const Node& child : v.children(dir)) {
        const std::string child_rel = rel.empty() ? child.name : rel + "/" + child.name;
        if (depth + 1 == pattern_depth) {
            // A malformed pattern (kBadPattern) matches nothing, as before.
            if (go::path::match(pattern, child_rel) == go::path::MatchResult::kMatch)
                out.push_back(child_rel);
        } else if (child.type == FileType::kDirectory) {
            collect_matches(v, child, child_rel, depth + 1, pattern, pattern_depth, out);
            child.dir->close();
        }
    }
}

struct Match {
    Node node;
    std::string path;  // the matched path, unresolved
    std::string rel;   // below the wildcard base
};

// Expands a (clean, absolute) source path with wildcards; each match is
// resolved with symlinks followed, as BuildKit's FollowSymlinks does.
std::vector<Match> expand(const CopyRequest& r, const SourceView& v, const std::string& path) {
    std::vector<Match> out;
    if (!contains_wildcards(path)) {
        auto res = v.resolve(path, true);
        if (!res.node) not_found(r, v, path);
        out.push_back({std::move(*res.node), path, go::path::base(path)});
        return out;
    }
    const WildcardSplit split = split_wildcards(path);
    auto base = v.resolve(split.base.empty() ? "/" : split.base, true);
    if (!base.node || base.node->type != FileType::kDirectory) return out;
    std::vector<std::string> rels;
    const size_t depth = split_path(split.pattern).size();
    collect_matches(v, *base.node, "", 0, split.pattern, depth, rels);
    for (auto& rel : rels) {
        std::string full = base.path == "/" ? "/" + rel : base.path + "/" + rel;
        auto res = v.resolve(full, true);
        if (!res.node) not_found(r, v, full);  // a dangling symlink
        out.push_back({std::move(*res.node), full, rel});
    }
    return out;
}

void plan_parents(const CopyRequest& r, const SourceView& v, size_t index, const std::string& src,
                  PlannedSources& planned) {
    std::string root_src = "/";
    std::string pattern = src;
    if (size_t pivot = src.find("/./"); pivot != std::string::npos) {
        root_src = src.substr(0, pivot);
        pattern = src.substr(pivot + 3);
    }
    const std::string root_clean = clean_source(r, v, root_src);
    const std::string pattern_clean = relative_path(clean_source(r, v, pattern));
    if (!contains_wildcards(root_src) && !contains_wildcards(pattern)) {
        const std::string required =
            root_clean == "/" ? "/" + pattern_clean : root_clean + "/" + pattern_clean;
        if (!v.resolve(required, true).node) not_found(r, v, src);
    }
    auto roots = expand(r, v, root_clean);
    planned.matched += roots.size();
    for (auto& m : roots) {
        CopyItem item;
        item.source_index = index;
        item.display = src;
        item.base = go::path::base(m.path);
        item.node = std::move(m.node);
        if (item.node.type == FileType::kDirectory && !pattern_clean.empty()) {
            item.include = frontend::DockerIgnore::from_patterns({pattern_clean}, "--parents");
            item.include_prefix = literal_prefix(pattern_clean);
        }
        planned.items.push_back(std::move(item));
    }
}

// ADD <git url>: the checkout as one directory item of its own view, whose
// contents go into the destination; of the commit the step's key holds.
CopyItem git_item(const CopyRequest& r, size_t index, const std::string& src,
                  const CopyEnvironment* env, const std::filesystem::path& fetch_dir) {
    auto checkout =
        std::make_shared<const GitCheckout>(fetch_git_url(src, r.keep_git_dir, fetch_dir));
    if (env) {
        const auto it = env->git_commits.find(git_checkout_key(src, r.keep_git_dir));
        if (it != env->git_commits.end() && it->second != checkout->commit)
            throw Error(
                ErrorKind::kConflict,
                fmt::format("{} moved from commit {} to {} while the step was built: "
                            "build again",
                            frontend::redact_url_credentials(src), it->second, checkout->commit));
    }
    if (!r.checksum.empty() && checkout->commit.rfind(r.checksum, 0) != 0)
        throw Error(ErrorKind::kUsage, fmt::format("expected checksum to match {}, got {}",
                                                   r.checksum, checkout->commit));
    auto view = std::make_shared<const LayerStackView>(
        std::vector{checkout->root}, "the Git source " + frontend::redact_url_credentials(src));
    Resolved root = view->resolve("/", true);
    if (!root.node) throw Error(ErrorKind::kInternal, "the Git checkout has no root");
    CopyItem item;
    item.source_index = index;
    item.display = src;
    item.base = go::path::base(checkout->root.string());
    item.node = std::move(*root.node);
    item.view = std::move(view);
    item.keep = std::move(checkout);
    return item;
}

}  // namespace

PlannedSources plan_sources(const CopyRequest& r, const SourceView& v, const CopyEnvironment* env,
                            const std::filesystem::path* fetch_dir,
                            const frontend::DockerIgnore* exclude) {
    PlannedSources planned;
    planned.matched_by_source.assign(r.sources.size() + r.inline_sources.size(), 0);
    for (size_t i = 0; i < r.sources.size(); ++i) {
        const size_t matched_before = planned.matched;
        const std::string& src = r.sources[i];
        if (frontend::is_git_url(src)) {
            if (!r.is_add)
                throw Error(ErrorKind::kUsage,
                            "source can't be a Git URL for COPY: " + src + " (use ADD)");
            ++planned.matched;
            planned.matched_by_source[i] = 1;
            if (!fetch_dir) continue;
            planned.items.push_back(git_item(r, i, src, env, *fetch_dir));
            continue;
        }
        if (is_url_source(src)) {
            if (!r.is_add)
                throw Error(ErrorKind::kUsage,
                            "source can't be a URL for COPY: " + src + " (use ADD)");
            ++planned.matched;
            planned.matched_by_source[i] = 1;
            if (!fetch_dir) continue;
            CopyItem item;
            item.kind = CopyItem::Kind::kDownload;
            item.source_index = i;
            item.display = src;
            const FetchedUrl* pre = nullptr;
            if (env) {
                auto it = env->prefetched.find(src);
                if (it != env->prefetched.end()) pre = &it->second;
            }
            if (pre) {
                item.download = *pre;
                verify_checksum(item.download, r.checksum);
            } else {
                FetchOptions opts = env ? env->fetch : FetchOptions{};
                opts.checksum = r.checksum;
                item.download = fetch_url(src, *fetch_dir, opts);
            }
            item.base = item.download.file_name;
            planned.items.push_back(std::move(item));
            continue;
        }
        if (r.parents) {
            plan_parents(r, v, i, src, planned);
            planned.matched_by_source[i] = planned.matched - matched_before;
            continue;
        }
        const std::string path = clean_source(r, v, src);
        const bool wildcard = contains_wildcards(path);
        for (auto& m : expand(r, v, path)) {
            ++planned.matched;
            // --exclude applies to what a wildcard picked, not to a path
            // named literally; a matched directory is entered instead.
            if (wildcard && exclude && m.node.type != FileType::kDirectory &&
                exclude->excluded(m.rel))
                continue;
            CopyItem item;
            item.source_index = i;
            item.display = src;
            item.base = go::path::base(m.path);
            item.node = std::move(m.node);
            item.wildcard_match = wildcard;
            item.match_rel = std::move(m.rel);
            planned.items.push_back(std::move(item));
        }
        planned.matched_by_source[i] = planned.matched - matched_before;
    }
    for (size_t k = 0; k < r.inline_sources.size(); ++k) {
        CopyItem item;
        item.kind = CopyItem::Kind::kInline;
        item.source_index = r.sources.size() + k;
        item.display = "<<" + r.inline_sources[k].name;
        item.base = go::path::base(r.inline_sources[k].name);
        item.content = r.inline_sources[k].content;
        ++planned.matched;
        planned.matched_by_source[item.source_index] = 1;
        planned.items.push_back(std::move(item));
    }
    return planned;
}

}  // namespace strata::executor
