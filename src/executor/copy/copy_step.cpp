#include "executor/copy/copy_step.hpp"

#include <fcntl.h>

#include <ctime>
#include <map>
#include <optional>
#include <utility>

#include "base/error.hpp"
#include "base/go/path.hpp"
#include "base/temp_dir.hpp"
#include "executor/copy/archive_extract.hpp"
#include "executor/copy/copy_items.hpp"
#include "executor/copy/dest_state.hpp"
#include "executor/copy/file_mode.hpp"
#include "executor/copy/owner.hpp"
#include "executor/copy/path_parts.hpp"
#include "executor/copy/tree_walker.hpp"
#include "executor/copy/write_pool.hpp"
#include "frontend/git_url.hpp"
#include "planner/copy_dest.hpp"

namespace strata::executor {

namespace {

std::string child_of(const std::string& dir, const std::string& name) {
    return dir == "/" ? "/" + name : dir + "/" + name;
}

std::pair<std::string, std::string> split_last(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return {"/", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

void validate(const CopyRequest& r) {
    if (!r.checksum.empty()) {
        if (!r.is_add) throw Error(ErrorKind::kUsage, "checksum can't be specified for COPY");
        if (r.sources.size() != 1)
            throw Error(ErrorKind::kUsage, "checksum can't be specified for multiple sources");
        if (!is_url_source(r.sources[0]) && !frontend::is_git_url(r.sources[0]))
            throw Error(ErrorKind::kUsage, "checksum requires HTTP(S) or Git sources");
    }
    if (r.keep_git_dir &&
        std::none_of(r.sources.begin(), r.sources.end(),
                     [](const std::string& s) { return frontend::is_git_url(s); }))
        throw Error(ErrorKind::kUsage, "--keep-git-dir is only valid for git sources");
}

std::optional<frontend::DockerIgnore> exclude_matcher(const CopyRequest& r) {
    if (r.excludes.empty()) return std::nullopt;
    return frontend::DockerIgnore::from_patterns(r.excludes, "--exclude");
}

// Writes the items of one COPY/ADD into the layer. Also the WalkSink for the
// contents of directory sources.
class Copier : public WalkSink {
  public:
    Copier(const CopyRequest& req, const SourceView& source, DestState& dest, const ModeSpec& mode,
           std::optional<Owner> owner, const frontend::DockerIgnore* exclude)
        : req_(req),
          source_(source),
          view_(&source),
          dest_(dest),
          mode_(mode),
          owner_(owner),
          exclude_(exclude) {
        clock_gettime(CLOCK_REALTIME, &now_);
        if (req.source_date_epoch) epoch_ = timespec{*req.source_date_epoch, 0};
        created_owner_ = owner_.value_or(Owner{0, 0});
        created_mtime_ = epoch_.value_or(now_);
        // Current BuildKit (fsutil since 2025) makes the directories a COPY
        // creates with the --chmod mode too, not 0755.
        created_mode_ = mode_.empty() ? 0755 : mode_.apply(0755, true);
    }

    // All items of one source, as one llb.Copy of BuildKit: the destination
    // directory (or the destination's parent) is made first.
    void place_source(const std::string& dest, const std::vector<const CopyItem*>& items) {
        const std::string ensure =
            planner::copy_dest_is_dir(dest) ? dest : dest.substr(0, dest.rfind('/') + 1);
        ensure_resolved(ensure);
        links_.clear();
        for (const CopyItem* item : items)
            place_item(dest, *item);
        // The next source resolves its destination through the layer.
        pool_.drain();
    }

    // WalkSink: directories and leaves below a copied directory.
    void open_dir(const Node& dir, const std::string&) override {
        Frame& top = stack_.back();
        const std::string path = child_of(top.dir.path, dir.name);
        std::optional<Node> below;
        if (auto st = dest_.tree().lstat(top.dir, dir.name)) {
            if (!S_ISDIR(st->st_mode)) non_directory(path);
        }
        if (top.below) {
            below = dest_.parent().child(*top.below, dir.name);
            if (below && below->type != FileType::kDirectory) {
                if (!dest_.tree().lstat(top.dir, dir.name)) non_directory(path);
                below.reset();
            }
        }
        LayerTree::Dir d = dest_.tree().make_dir(top.dir, dir.name, meta_of(dir), true);
        UniqueFd src = view_->open_directory(dir);
        dest_.tree().copy_dir_xattrs(src.get(), d);
        stack_.push_back(Frame{std::move(d), std::move(below)});
    }
    void close_dir(const Node& dir, const std::string&) override {
        dest_.tree().defer_mtime(stack_.back().dir.path, meta_of(dir).mtime);
        stack_.pop_back();
    }
    void leaf(const Node& node, const std::string&) override {
        Frame& top = stack_.back();
        clear_leaf(top, node.name);
        write_node(top, node.name, node);
    }

  private:
    struct Frame {
        LayerTree::Dir dir;
        std::optional<Node> below;  // the parent image's directory at the same path
    };

    [[noreturn]] static void non_directory(const std::string& path) {
        throw Error(ErrorKind::kConflict, "cannot copy to non-directory: " + path);
    }

    EntryMeta meta_of(const Node& n) const {
        EntryMeta m;
        const bool is_dir = n.type == FileType::kDirectory;
        m.mode = n.type == FileType::kSymlink ? 0777 : mode_.apply(n.st.st_mode & 07777, is_dir);
        if (owner_) {
            m.uid = owner_->uid;
            m.gid = owner_->gid;
        } else if (view_->keeps_ownership()) {
            m.uid = n.st.st_uid;
            m.gid = n.st.st_gid;
        }
        m.mtime = epoch_.value_or(n.st.st_mtim);
        return m;
    }

    LayerTree::Dir ensure_resolved(const std::string& path) {
        Resolved r = dest_.merged().resolve(path, true);
        return dest_.ensure_dir(r.path, created_owner_, created_mtime_, created_mode_);
    }

    void place_item(const std::string& dest, const CopyItem& item) {
        // What earlier items wrote must be in the layer: this one may land
        // on the same name, or resolve its destination through them.
        pool_.drain();
        // The view the item's nodes are of (an ADD <git url>'s checkout has
        // its own); set after the drain, as the queued writes read it.
        view_ = item.view ? item.view.get() : &source_;
        // ADD unpacks local archives unless --unpack=false, and downloads
        // only with --unpack=true (BuildKit's defaults).
        const bool local_archive = item.kind == CopyItem::Kind::kNode && req_.is_add &&
                                   req_.unpack.value_or(true) &&
                                   item.node.type == FileType::kRegular;
        const bool fetched_archive =
            item.kind == CopyItem::Kind::kDownload && req_.unpack.value_or(false);
        if (local_archive || fetched_archive) {
            UniqueFd fd = local_archive
                              ? view_->open_file(item.node)
                              : UniqueFd(::open(item.download.file.c_str(), O_RDONLY | O_CLOEXEC));
            if (!fd) throw system_error("open download", item.download.file.string());
            if (is_tar_archive(fd.get())) {
                // Extracted into the destination, which is made a directory
                // whatever its spelling.
                Resolved r = dest_.merged().resolve(dest, true);
                dest_.ensure_dir(r.path, created_owner_, created_mtime_);
                extract_tar(fd.get(), dest_, r.path, ExtractOptions{owner_, "ADD " + item.display});
                return;
            }
        }
        Resolved r = dest_.merged().resolve(go::path::clean(dest), true);
        const bool dest_is_dir = r.node && r.node->type == FileType::kDirectory;
        if (item.kind == CopyItem::Kind::kNode && item.node.type == FileType::kDirectory) {
            // A directory source: its contents go into the destination.
            if (r.node && !dest_is_dir) non_directory(r.path);
            LayerTree::Dir top =
                dest_.ensure_dir(r.path, created_owner_, created_mtime_, created_mode_);
            stack_.clear();
            stack_.push_back(Frame{top, dest_.parent_dir(r.path)});
            WalkFilter filter;
            filter.include = item.include ? &*item.include : nullptr;
            filter.include_prefix = item.include_prefix;
            filter.exclude = exclude_;
            walk_tree(*view_, item.node, filter, *this);
            stack_.clear();
            // As BuildKit: the top directory keeps its mode and owner but
            // takes the source directory's mtime.
            dest_.tree().defer_mtime(top.path, meta_of(item.node).mtime);
            return;
        }
        std::string target = dest_is_dir ? child_of(r.path, item.base) : r.path;
        auto [dir_path, name] = split_last(target);
        Frame frame{dest_.ensure_dir(dir_path, created_owner_, created_mtime_, created_mode_),
                    dest_.parent_dir(dir_path)};
        clear_leaf(frame, name);
        switch (item.kind) {
            case CopyItem::Kind::kNode:
                write_node(frame, name, item.node);
                break;
            case CopyItem::Kind::kDownload: {
                UniqueFd fd(::open(item.download.file.c_str(), O_RDONLY | O_CLOEXEC));
                if (!fd) throw system_error("open download", item.download.file.string());
                EntryMeta m;
                m.mode = mode_.apply(0600, false);
                m.uid = created_owner_.uid;
                m.gid = created_owner_.gid;
                m.mtime = now_;
                if (item.download.last_modified)
                    m.mtime = timespec{*item.download.last_modified, 0};
                if (epoch_) m.mtime = *epoch_;
                dest_.tree().write_file(frame.dir, name, fd.get(), m, -1);
                break;
            }
            case CopyItem::Kind::kInline: {
                EntryMeta m;
                m.mode = mode_.apply(0644, false);
                m.uid = created_owner_.uid;
                m.gid = created_owner_.gid;
                m.mtime = epoch_.value_or(now_);
                dest_.tree().write_file(frame.dir, name, item.content, m);
                break;
            }
        }
    }

    // Makes room for a non-directory `name`: a directory there is an error,
    // anything else in the layer is replaced.
    void clear_leaf(const Frame& f, const std::string& name) {
        const std::string path = child_of(f.dir.path, name);
        if (auto st = dest_.tree().lstat(f.dir, name)) {
            if (S_ISDIR(st->st_mode))
                throw Error(ErrorKind::kConflict,
                            "cannot replace directory " + path + " with a file");
            dest_.tree().remove(f.dir, name);
            return;
        }
        if (f.below) {
            auto b = dest_.parent().child(*f.below, name);
            if (b && b->type == FileType::kDirectory)
                throw Error(ErrorKind::kConflict,
                            "cannot replace directory " + path + " with a file");
        }
    }

    void write_node(const Frame& f, const std::string& name, const Node& n) {
        LayerTree& tree = dest_.tree();
        const EntryMeta meta = meta_of(n);
        switch (n.type) {
            case FileType::kRegular: {
                const auto key = std::make_pair(n.st.st_dev, n.st.st_ino);
                if (n.st.st_nlink > 1) {
                    auto it = links_.find(key);
                    if (it != links_.end()) {
                        tree.link(it->second, f.dir, name);
                        return;
                    }
                }
                if (tree.records_files() && n.st.st_nlink <= 1) {
                    // Read once, when the layer tar is written. (A hardlinked
                    // file is made, as below: the tar keeps its links.)
                    tree.record_file(
                        f.dir, name,
                        SourceFile{view_->layer_root(n.layer), n.path, view_->host_path_string(n),
                                   static_cast<uint64_t>(n.st.st_size),
                                   view_->snapshot_identity(n)},
                        meta);
                    return;
                }
                if (n.st.st_nlink > 1) {
                    // Later names link to this one: it must exist first.
                    UniqueFd fd = view_->open_file(n);
                    tree.write_file(f.dir, name, fd.get(), meta, fd.get());
                    links_[key] = child_of(f.dir.path, name);
                    return;
                }
                pool_.submit([this, &tree, dir = f.dir, name, n, meta] {
                    UniqueFd fd = view_->open_file(n);
                    tree.write_file(dir, name, fd.get(), meta, fd.get());
                });
                return;
            }
            case FileType::kSymlink:
                tree.write_symlink(f.dir, name, n.link_target, meta);
                return;
            case FileType::kDirectory:
                throw Error(ErrorKind::kInternal, "write_node on a directory");
            case FileType::kSocket:
                // As BuildKit, whose context transfer (fsutil) sends a Unix
                // socket as an empty regular file with the socket's mode.
                tree.write_file(f.dir, name, std::string(), meta);
                return;
            default:
                tree.write_special(f.dir, name, n.st.st_mode & S_IFMT, n.st.st_rdev, meta);
                return;
        }
    }

    const CopyRequest& req_;
    const SourceView& source_;
    const SourceView* view_;  // the current item's (place_item)
    DestState& dest_;
    const ModeSpec& mode_;
    std::optional<Owner> owner_;
    const frontend::DockerIgnore* exclude_;
    struct timespec now_ {};
    std::optional<struct timespec> epoch_;
    Owner created_owner_;
    struct timespec created_mtime_ {};
    uint32_t created_mode_ = 0755;  // directories this COPY makes
    std::vector<Frame> stack_;
    std::map<std::pair<dev_t, ino_t>, std::string> links_;  // hardlinks within one source
    // Last: destroyed first, so that no write is still running (on this
    // object's state) when the rest goes away, e.g. after an error.
    WritePool pool_{WritePool::default_threads()};
};

// Lists what a directory walk selects.
class SelectSink : public WalkSink {
  public:
    SelectSink(const SourceView& v, const ModeSpec& mode, const CopyItem& item,
               std::vector<SelectedEntry>& out)
        : v_(v), mode_(mode), item_(item), out_(out) {}
    void open_dir(const Node& dir, const std::string& rel) override { add(dir, rel); }
    void close_dir(const Node&, const std::string&) override {}
    void leaf(const Node& node, const std::string& rel) override { add(node, rel); }

    void add(const Node& n, const std::string& rel) {
        SelectedEntry e;
        e.source_index = item_.source_index;
        e.item = item_.node.path;
        e.rel = rel;
        e.type = n.type;
        e.mode = n.type == FileType::kSymlink
                     ? 0777
                     : mode_.apply(n.st.st_mode & 07777, n.type == FileType::kDirectory);
        if (v_.keeps_ownership()) {
            e.uid = n.st.st_uid;
            e.gid = n.st.st_gid;
        }
        e.link_target = n.link_target;
        e.size = n.type == FileType::kRegular ? static_cast<uint64_t>(n.st.st_size) : 0;
        e.host_path = v_.host_path(n);
        e.layer = n.layer;
        e.view_path = n.path;
        out_.push_back(std::move(e));
    }

  private:
    const SourceView& v_;
    const ModeSpec& mode_;
    const CopyItem& item_;
    std::vector<SelectedEntry>& out_;
};

}  // namespace

CopyResult run_copy(const CopyRequest& req, const SourceView& source, const LayerStackView& parent,
                    const std::filesystem::path& layer_dir, const CopyEnvironment& env) {
    validate(req);
    const ModeSpec mode = req.chmod.empty() ? ModeSpec() : ModeSpec::parse(req.chmod);
    std::optional<Owner> owner;
    if (!req.chown.empty()) owner = ChownSpec::parse(req.chown).resolve(parent);
    const auto exclude = exclude_matcher(req);

    // --link copies onto an empty filesystem: nothing of the parent is seen.
    // BuildKit falls back to a plain copy when --chmod is given.
    const bool link = req.link && req.chmod.empty();
    LayerStackView scratch({}, "scratch");
    const SourceView& below = link ? static_cast<const SourceView&>(scratch) : parent;
    std::vector<std::filesystem::path> merged_layers;
    if (!link) merged_layers = parent.layers();
    merged_layers.push_back(layer_dir);
    LayerStackView merged(std::move(merged_layers), "the destination");

    LayerTree tree(layer_dir);
    // Straight to the tar: the files are recorded, not made, and every rule
    // below sees them through the tree and the merged view as if they were
    // there. Not for ADD: unpacking an archive reads back (hardlink
    // targets, replaced entries, metadata of what it extracted) through
    // calls that need the files on disk, so ADD makes its layer directory.
    const bool direct = env.direct && !req.is_add;
    if (direct) {
        tree.record_files();
        merged.set_recorded_entries([&tree](const std::string& p) { return tree.recorded(p); });
    } else {
        tree.whole_second_times();  // the layer directory is what its blob unpacks to
        if (!env.reuse_layer.empty()) tree.reuse_from(env.reuse_layer);
    }

    std::optional<TempDir> downloads;
    for (const auto& s : req.sources) {
        const bool git = frontend::is_git_url(s);
        if (git || (is_url_source(s) && !env.prefetched.count(s))) {
            std::filesystem::path base =
                env.scratch_dir.empty() ? std::filesystem::temp_directory_path() : env.scratch_dir;
            downloads = TempDir::create(base, "strata-add-");
            break;
        }
    }
    const std::filesystem::path fetch_dir =
        downloads ? downloads->path() : std::filesystem::temp_directory_path();
    PlannedSources planned =
        plan_sources(req, source, &env, &fetch_dir, exclude ? &*exclude : nullptr);
    if (planned.matched == 0)
        throw Error(ErrorKind::kNotFound,
                    std::string(instruction_name(req)) + " failed: no source files were specified");

    const std::string dest = planner::copy_dest(req.workdir, req.dest);
    bool all_dirs = true;
    for (const auto& item : planned.items)
        all_dirs = all_dirs && item.kind == CopyItem::Kind::kNode &&
                   item.node.type == FileType::kDirectory;
    if (planned.items.size() > 1 && !all_dirs && !planner::copy_dest_is_dir(dest)) {
        // Docker's rule. Like BuildKit, strata also accepts an existing
        // directory, and several directories (whose contents merge anyway);
        // BuildKit's silent overwrite of one file by the next
        // (moby/buildkit#1853) cannot happen.
        auto d = merged.lookup(go::path::clean(dest), true);
        if (!d || d->type != FileType::kDirectory)
            throw Error(ErrorKind::kUsage,
                        std::string("When using ") + instruction_name(req) +
                            " with more than one source file, the destination must be a "
                            "directory and end with a /");
    }

    DestState state(tree, below, merged);
    Copier copier(req, source, state, mode, owner, exclude ? &*exclude : nullptr);
    const size_t groups = planned.matched_by_source.size();
    for (size_t s = 0; s < groups; ++s) {
        if (planned.matched_by_source[s] == 0) continue;
        std::vector<const CopyItem*> items;
        for (const auto& item : planned.items)
            if (item.source_index == s) items.push_back(&item);
        copier.place_source(dest, items);
    }
    tree.finish();

    CopyResult result;
    for (const auto& item : planned.items)
        if (item.kind == CopyItem::Kind::kDownload) result.fetched.push_back(item.download);
    result.entries = tree.entries_written();
    result.bytes = tree.bytes_written();
    result.reused = tree.entries_reused();
    result.direct = direct;
    if (direct) {
        result.layer_files = tree.take_layer_files(
            env.scratch_dir.empty() ? layer_dir : env.scratch_dir, &result.layer_file_identities);
    }
    return result;
}

std::vector<SelectedEntry> select_sources(const CopyRequest& req, const SourceView& source) {
    validate(req);
    const ModeSpec mode = req.chmod.empty() ? ModeSpec() : ModeSpec::parse(req.chmod);
    const auto exclude = exclude_matcher(req);
    PlannedSources planned =
        plan_sources(req, source, nullptr, nullptr, exclude ? &*exclude : nullptr);
    if (planned.matched == 0)
        throw Error(ErrorKind::kNotFound,
                    std::string(instruction_name(req)) + " failed: no source files were specified");
    std::vector<SelectedEntry> out;
    for (const auto& item : planned.items) {
        if (item.kind != CopyItem::Kind::kNode) continue;
        SelectSink sink(source, mode, item, out);
        sink.add(item.node, "");
        if (item.node.type == FileType::kDirectory) {
            WalkFilter filter;
            filter.include = item.include ? &*item.include : nullptr;
            filter.include_prefix = item.include_prefix;
            filter.exclude = exclude ? &*exclude : nullptr;
            walk_tree(source, item.node, filter, sink);
        }
    }
    return out;
}

}  // namespace strata::executor
