#include "executor/copy/source_digester.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <optional>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "cache/context_digest.hpp"
#include "cache/context_resolve.hpp"
#include "executor/copy/copy_items.hpp"
#include "executor/copy/copy_request.hpp"
#include "executor/copy/file_mode.hpp"

namespace strata::executor {

namespace {

// Length-prefixed fields, so that no two different inputs encode alike.
void put(std::string& b, std::string_view s) {
    b += std::to_string(s.size());
    b += ':';
    b.append(s);
}

std::optional<frontend::DockerIgnore> exclude_matcher(const CopyRequest& r) {
    if (r.excludes.empty()) return std::nullopt;
    return frontend::DockerIgnore::from_patterns(r.excludes, "--exclude");
}

// What a snapshot entry is for the executor's view, to catch a context that
// changed between the snapshot and the key (a file replaced by a directory).
bool same_kind(const cache::Entry& e, FileType t) {
    switch (e.type) {
        case cache::EntryType::kDir:
            return t == FileType::kDirectory;
        case cache::EntryType::kFile:
            return t == FileType::kRegular;
        case cache::EntryType::kSymlink:
            return t == FileType::kSymlink;
        default:
            return t != FileType::kDirectory && t != FileType::kRegular && t != FileType::kSymlink;
    }
}

[[noreturn]] void context_changed(const std::string& path) {
    throw Error(ErrorKind::kConflict,
                fmt::format("the build context changed while the build was reading it: \"{}\"; "
                            "build again",
                            path));
}

}  // namespace

std::string stage_selection_input(const planner::CopyStep& copy,
                                  const std::vector<store::LayerRecord>& layers) {
    std::string b = "strata.stage-sources.v1";
    put(b, std::to_string(layers.size()));
    for (const auto& l : layers)
        put(b, l.diff_id.str());
    put(b, copy.is_add ? "ADD" : "COPY");
    put(b, std::to_string(copy.sources.size()));
    for (const auto& s : copy.sources)
        put(b, s);
    put(b, copy.chmod);
    put(b, copy.parents ? "parents" : "");
    put(b, std::to_string(copy.excludes.size()));
    for (const auto& e : copy.excludes)
        put(b, e);
    return b;
}

BuildDigester::BuildDigester(DigesterHooks hooks, cache::CacheIndex& cache,
                             std::filesystem::path tmp_parent, FetchOptions fetch)
    : hooks_(std::move(hooks)),
      cache_(cache),
      tmp_parent_(std::move(tmp_parent)),
      fetch_(std::move(fetch)) {}

std::string BuildDigester::context_sources(const planner::CopyStep& copy) {
    {
        std::lock_guard lock(mu_);
        auto it = memo_.find({&copy, 0});
        if (it != memo_.end()) return it->second;
    }
    const CopyRequest req = copy_request(copy);
    const BuildContext& view = hooks_.context(copy.from.context);
    const cache::ContextSnapshot& snap = hooks_.snapshot(copy.from.context);
    const auto exclude = exclude_matcher(req);
    const PlannedSources planned =
        plan_sources(req, view, nullptr, nullptr, exclude ? &*exclude : nullptr);
    if (planned.matched == 0)
        throw Error(ErrorKind::kNotFound,
                    std::string(instruction_name(req)) + " failed: no source files were specified");
    const ModeSpec mode = req.chmod.empty() ? ModeSpec() : ModeSpec::parse(req.chmod);

    cache::SelectionDigest selection;
    for (const CopyItem& item : planned.items) {
        if (item.kind != CopyItem::Kind::kNode) continue;  // URLs and heredocs: keyed elsewhere
        const std::string rel = relative_path(item.node.path);
        const cache::Entry* e = snap.find(rel);
        if (!e || !same_kind(*e, item.node.type)) context_changed(item.node.path);

        // Where the item lands: its source, the name it is placed under,
        // and for --parents the whole path it keeps.
        std::string label;
        put(label, std::to_string(item.source_index));
        put(label, item.base);
        put(label, item.match_rel);
        if (req.parents) put(label, item.node.path);

        cache::DigestOptions opts;
        if (item.include || exclude) {
            const frontend::DockerIgnore* include = item.include ? &*item.include : nullptr;
            const frontend::DockerIgnore* ex = exclude ? &*exclude : nullptr;
            opts.include = [include, ex](std::string_view p, const cache::Entry&) {
                const bool in = !include || include->excluded(p);
                return in && !(ex && ex->excluded(p));
            };
        }
        if (!mode.empty()) {
            opts.mode = [&mode](const cache::Entry& x) {
                if (x.type == cache::EntryType::kSymlink) return x.mode;
                return mode.apply(x.mode, x.type == cache::EntryType::kDir);
            };
        }
        selection.add(label, cache::subtree_digest(snap, *e, opts));
    }
    std::string digest = selection.str();
    std::lock_guard lock(mu_);
    return memo_.emplace(std::make_pair(&copy, 0), std::move(digest)).first->second;
}

std::vector<std::string> BuildDigester::context_roots(const planner::CopyStep& copy) {
    const CopyRequest req = copy_request(copy);
    const auto exclude = exclude_matcher(req);
    std::vector<std::string> out;
    try {
        const PlannedSources planned = plan_sources(req, hooks_.context(copy.from.context), nullptr,
                                                    nullptr, exclude ? &*exclude : nullptr);
        for (const CopyItem& item : planned.items)
            if (item.kind == CopyItem::Kind::kNode) out.push_back(relative_path(item.node.path));
    } catch (const Error&) {
        // Nothing selected any more: every file that was there is a change.
        out.push_back("");
    }
    return out;
}

std::string BuildDigester::stage_sources(const planner::CopyStep& copy) {
    {
        std::lock_guard lock(mu_);
        auto it = memo_.find({&copy, 1});
        if (it != memo_.end()) return it->second;
    }
    const SourceDirs source = hooks_.source_dirs(copy.from);
    std::optional<std::string> input;
    if (source.layers) input = stage_selection_input(copy, *source.layers);
    auto remember = [&](std::string d) {
        std::lock_guard lock(mu_);
        if (!input) memo_late_.push_back(&copy);
        return memo_.emplace(std::make_pair(&copy, 1), std::move(d)).first->second;
    };
    if (input)
        if (auto memo = cache_.memo(*input)) return remember(*memo);

    const CopyRequest req = copy_request(copy);
    std::string what = copy.from.kind == planner::SourceRef::Kind::kImage
                           ? "image " + copy.from.image
                           : fmt::format("stage {}", copy.from.stage);
    LayerStackView view(source.layers ? hooks_.unpack(*source.layers) : source.dirs, what);
    std::string b = "strata.stage-selection.v1";
    for (const SelectedEntry& s : select_sources(req, view)) {
        put(b, std::to_string(s.source_index));
        put(b, s.item);
        put(b, s.rel);
        put(b, file_type_name(s.type));
        put(b, fmt::format("{:o}:{}:{}", s.mode, s.uid, s.gid));
        put(b, s.link_target);
        if (s.type == FileType::kRegular) {
            UniqueFd fd = view.open_file_at(s.layer, s.view_path);
            put(b, cache::hash_content(fd.get(), s.host_path.string()).hex());
        } else {
            put(b, "");
        }
    }
    const std::string digest = cache::digest_string(cache::hash_encoding(b));
    if (input) cache_.put_memo(*input, digest);
    return remember(digest);
}

void BuildDigester::memoize_late() {
    std::vector<std::pair<const planner::CopyStep*, std::string>> late;
    {
        std::lock_guard lock(mu_);
        for (const planner::CopyStep* copy : memo_late_)
            late.emplace_back(copy, memo_.at({copy, 1}));
        memo_late_.clear();
    }
    for (const auto& [copy, digest] : late)
        cache_.put_memo(stage_selection_input(*copy, hooks_.layers_of(copy->from)), digest);
}

std::string BuildDigester::url_content(const std::string& url) {
    std::filesystem::path dir;
    {
        std::lock_guard lock(mu_);
        auto it = downloads_.find(url);
        if (it != downloads_.end()) return it->second.sha256;
        if (!downloads_dir_) downloads_dir_.emplace(TempDir::create(tmp_parent_, "downloads-"));
        dir = downloads_dir_->path();
    }
    FetchedUrl f = fetch_url(url, dir, fetch_);
    std::lock_guard lock(mu_);
    auto [it, inserted] = downloads_.emplace(url, std::move(f));
    return it->second.sha256;
}

std::string BuildDigester::git_source(const std::string& url, bool keep_git_dir) {
    const std::string key = git_checkout_key(url, keep_git_dir);
    const std::optional<frontend::GitRef> ref = frontend::parse_git_ref(url);
    if (!ref) throw Error(ErrorKind::kInternal, "not a Git URL: " + url);
    std::string commit;
    {
        std::lock_guard lock(mu_);
        const auto it = git_commits_.find(key);
        if (it != git_commits_.end()) commit = it->second;
    }
    if (commit.empty()) {
        commit = resolve_git_commit(*ref, tmp_parent_);
        std::lock_guard lock(mu_);
        commit = git_commits_.emplace(key, commit).first->second;
    }
    return fmt::format("git:{}:{}:{}:{}", commit, ref->subdir,
                       ref->keep_git_dir || keep_git_dir ? "keep-git-dir" : "",
                       ref->submodules ? "submodules" : "");
}

std::map<std::string, std::string> BuildDigester::git_commits() const {
    std::lock_guard lock(mu_);
    return git_commits_;
}

std::string BuildDigester::context_mount(const planner::RunMount& mount) {
    const cache::ContextSnapshot& snap = hooks_.snapshot(mount.from.context);
    const cache::Resolution r = cache::resolve_in_context(snap, mount.source, true);
    if (!r.entry)
        throw Error(ErrorKind::kNotFound,
                    fmt::format("failed to compute cache key: \"/{}\": not found in the build "
                                "context (or excluded by .dockerignore)",
                                mount.source));
    return cache::digest_string(r.entry->digest);
}

std::map<std::string, FetchedUrl> BuildDigester::prefetched() const {
    std::lock_guard lock(mu_);
    return downloads_;
}

}  // namespace strata::executor
