#include "executor/copy/source_view.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <iterator>
#include <set>

#include "base/error.hpp"
#include "base/in_root.hpp"
#include "base/overlay_mount.hpp"
#include "executor/copy/copy_reuse.hpp"
#include "executor/copy/path_parts.hpp"
#include "store/safe_path.hpp"

namespace strata::executor {

namespace {

constexpr int kMaxSymlinks = 255;

std::string read_link(int dirfd, const std::string& name, const std::string& what) {
    std::string buf(256, '\0');
    for (;;) {
        ssize_t n = ::readlinkat(dirfd, name.c_str(), buf.data(), buf.size());
        if (n < 0) throw system_error("readlink", what);
        if (static_cast<size_t>(n) < buf.size()) {
            buf.resize(static_cast<size_t>(n));
            return buf;
        }
        buf.resize(buf.size() * 2);
    }
}

std::vector<std::string> list_names(int dirfd, const std::string& what) {
    return store::list_dir(dirfd, what);
}

std::string child_path(const std::string& dir, std::string_view name) {
    std::string out = dir;
    if (out != "/") out += '/';
    out += name;
    return out;
}

// The lexical continuation of a resolution that met a missing element.
std::string lexical_rest(std::vector<std::string> names, std::deque<std::string>& pending) {
    for (auto& c : pending) {
        if (c == "..") {
            if (!names.empty()) names.pop_back();
        } else {
            names.push_back(std::move(c));
        }
    }
    return join_abs(names);
}

}  // namespace

FileType file_type_of(mode_t mode) {
    switch (mode & S_IFMT) {
        case S_IFDIR:
            return FileType::kDirectory;
        case S_IFLNK:
            return FileType::kSymlink;
        case S_IFCHR:
            return FileType::kCharDevice;
        case S_IFBLK:
            return FileType::kBlockDevice;
        case S_IFIFO:
            return FileType::kFifo;
        case S_IFSOCK:
            return FileType::kSocket;
        default:
            return FileType::kRegular;
    }
}

const char* file_type_name(FileType type) {
    switch (type) {
        case FileType::kRegular:
            return "file";
        case FileType::kDirectory:
            return "directory";
        case FileType::kSymlink:
            return "symlink";
        case FileType::kCharDevice:
            return "char device";
        case FileType::kBlockDevice:
            return "block device";
        case FileType::kFifo:
            return "fifo";
        case FileType::kSocket:
            return "socket";
    }
    return "entry";
}

std::string relative_path(std::string_view abs_path) {
    while (!abs_path.empty() && abs_path.front() == '/')
        abs_path.remove_prefix(1);
    return std::string(abs_path);
}

SourceView::SourceView(Config config)
    : layer_paths_(std::move(config.layers)),
      description_(std::move(config.description)),
      overlay_(config.overlay),
      keep_owner_(config.keep_owner),
      escape_is_error_(config.escape_is_error) {
    for (const auto& p : layer_paths_) {
        UniqueFd fd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd) throw system_error("open layer directory", p.string());
        layer_roots_.push_back(std::make_shared<const UniqueFd>(std::move(fd)));
    }
}

bool SourceView::hidden(const Node&) const {
    return false;
}

const std::vector<std::shared_ptr<const UniqueFd>>& MergedDir::fds(const std::string& what) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (opened_) return fds_;
    for (const LayerDir& ld : layers_) {
        if (ld.name == ".") {
            fds_.push_back(ld.parent);
            continue;
        }
        UniqueFd fd(::openat(ld.parent->get(), ld.name.c_str(),
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) throw system_error("open directory", what);
        fds_.push_back(std::make_shared<const UniqueFd>(std::move(fd)));
    }
    opened_ = true;
    return fds_;
}

void MergedDir::close() const {
    std::lock_guard<std::mutex> lock(mu_);
    fds_.clear();
    opened_ = false;
}

Node SourceView::root() const {
    Node n;
    n.path = "/";
    n.type = FileType::kDirectory;
    std::vector<LayerDir> layers;
    if (layer_roots_.empty()) {
        n.st.st_mode = S_IFDIR | 0755;
    } else {
        if (::fstat(layer_roots_.back()->get(), &n.st) != 0)
            throw system_error("stat", layer_paths_.back().string());
        n.layer = layer_roots_.size() - 1;
        for (size_t i = layer_roots_.size(); i-- > 0;) {
            layers.push_back({i, layer_roots_[i], "."});
            if (overlay_ && i > 0 && is_opaque_dir(layer_roots_[i]->get())) break;
        }
    }
    n.dir = std::make_shared<const MergedDir>(std::move(layers));
    return n;
}

std::optional<Node> SourceView::child_impl(const Node& dir, std::string_view name_sv) const {
    if (!dir.dir || name_sv.empty() || name_sv == "." || name_sv == ".." ||
        name_sv.find('/') != std::string_view::npos)
        return std::nullopt;
    const std::string name(name_sv);
    const auto& layers = dir.dir->layers();
    if (layers.empty()) return std::nullopt;
    const auto& fds = dir.dir->fds(dir.path);
    std::optional<Node> out;
    std::vector<LayerDir> merged;
    for (size_t k = 0; k < layers.size(); ++k) {
        const size_t layer = layers[k].layer;
        const auto& fd = fds[k];
        struct stat st {};
        std::optional<struct stat> recorded;
        if (layer + 1 == layer_roots_.size()) recorded = known_stat(child_path(dir.path, name));
        if (recorded) {
            st = *recorded;
        } else if (::fstatat(fd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT || errno == ENOTDIR) continue;
            throw system_error(
                "stat", (layer_paths_[layer] / relative_path(child_path(dir.path, name))).string());
        }
        if (overlay_ && is_overlay_whiteout(st)) break;
        if (!out) {
            out.emplace();
            out->path = child_path(dir.path, name);
            out->name = name;
            out->type = file_type_of(st.st_mode);
            out->st = st;
            out->layer = layer;
            out->parent_fd = fd;
            if (out->type == FileType::kSymlink)
                out->link_target = read_link(fd->get(), name, out->path);
            if (out->type != FileType::kDirectory) break;
        } else if (!S_ISDIR(st.st_mode)) {
            break;  // a lower non-directory is hidden and ends the merge
        }
        merged.push_back({layer, fd, name});
        if (overlay_ && k + 1 < layers.size()) {
            // Opaque: nothing below this copy shows through.
            UniqueFd sub(
                ::openat(fd->get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub) throw system_error("open directory", out->path);
            if (is_opaque_dir(sub.get())) break;
        }
    }
    if (out && out->type == FileType::kDirectory)
        out->dir = std::make_shared<const MergedDir>(std::move(merged));
    return out;
}

std::optional<struct stat> SourceView::known_stat(const std::string& path) const {
    if (!recorded_) return std::nullopt;
    return recorded_(path);
}

std::optional<Node> SourceView::child(const Node& dir, std::string_view name) const {
    auto n = child_impl(dir, name);
    if (n && hidden(*n)) return std::nullopt;
    return n;
}

std::optional<std::vector<Node>> SourceView::known_children(const Node&) const {
    return std::nullopt;
}

std::vector<Node> SourceView::children(const Node& dir) const {
    if (auto known = known_children(dir)) return std::move(*known);
    std::vector<Node> out;
    if (!dir.dir) return out;
    std::vector<std::string> names;
    for (const auto& fd : dir.dir->fds(dir.path)) {
        auto more = list_names(fd->get(), dir.path);
        if (names.empty())
            names = std::move(more);
        else
            names.insert(names.end(), std::make_move_iterator(more.begin()),
                         std::make_move_iterator(more.end()));
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    out.reserve(names.size());
    for (const auto& name : names) {
        if (auto n = child(dir, name)) out.push_back(std::move(*n));
    }
    return out;
}

Resolved SourceView::resolve(std::string_view path, bool follow_final) const {
    std::deque<std::string> pending;
    for (auto& c : split_path(path))
        pending.push_back(std::move(c));
    std::vector<Node> stack{root()};
    int links = 0;
    std::string last_link;  // for messages: "link -> target"
    auto names_of = [&] {
        std::vector<std::string> names;
        for (size_t i = 1; i < stack.size(); ++i)
            names.push_back(stack[i].name);
        return names;
    };
    auto escape = [&]() {
        throw Error(ErrorKind::kUsage, "\"" + std::string(path) + "\": symlink " + last_link +
                                           " leads outside " + description_);
    };
    while (!pending.empty()) {
        std::string comp = std::move(pending.front());
        pending.pop_front();
        if (comp == "..") {
            if (stack.size() == 1) {
                if (escape_is_error_) escape();
                continue;
            }
            stack.pop_back();
            continue;
        }
        auto n = child(stack.back(), comp);
        if (!n) {
            Resolved r;
            r.parent_exists = pending.empty();
            auto names = names_of();
            names.push_back(std::move(comp));
            r.path = lexical_rest(std::move(names), pending);
            return r;
        }
        if (n->type == FileType::kSymlink && (!pending.empty() || follow_final)) {
            if (++links > kMaxSymlinks)
                throw Error(ErrorKind::kNotFound,
                            "\"" + std::string(path) + "\": too many levels of symbolic links");
            last_link = "\"" + n->path + "\" -> \"" + n->link_target + "\"";
            if (!n->link_target.empty() && n->link_target.front() == '/') {
                if (escape_is_error_) escape();
                stack.resize(1);
            }
            auto parts = split_path(n->link_target);
            pending.insert(pending.begin(), parts.begin(), parts.end());
            continue;
        }
        if (!pending.empty() && n->type != FileType::kDirectory) {
            Resolved r;  // ENOTDIR: nothing can be there
            auto names = names_of();
            names.push_back(std::move(comp));
            r.path = lexical_rest(std::move(names), pending);
            return r;
        }
        stack.push_back(std::move(*n));
    }
    Resolved r;
    r.path = stack.back().path;
    r.node = std::move(stack.back());
    r.parent_exists = true;
    return r;
}

std::optional<Node> SourceView::lookup(std::string_view path, bool follow_final) const {
    return resolve(path, follow_final).node;
}

UniqueFd SourceView::open_file(const Node& node) const {
    if (!node.parent_fd) throw Error(ErrorKind::kInternal, "open_file on the root of a view");
    UniqueFd fd(::openat(node.parent_fd->get(), node.name.c_str(),
                         O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (!fd) throw system_error("open", host_path(node).string());
    return fd;
}

UniqueFd SourceView::open_file_at(size_t layer, std::string_view path) const {
    if (layer >= layer_roots_.size())
        throw Error(ErrorKind::kInternal, "open_file_at: no layer " + std::to_string(layer));
    const std::filesystem::path shown = layer_paths_[layer] / relative_path(path);
    UniqueFd fd =
        open_in_root(layer_roots_[layer]->get(), path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
                     0, InRootEscape::kRefuse);
    if (!fd) throw system_error("open", shown.string());
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw system_error("stat", shown.string());
    if (!S_ISREG(st.st_mode))
        throw Error(ErrorKind::kConflict, shown.string() + ": not a regular file");
    return fd;
}

UniqueFd SourceView::open_directory(const Node& node) const {
    if (!node.dir || node.dir->layers().empty())
        throw Error(ErrorKind::kInternal, "open_directory on " + node.path);
    UniqueFd fd(
        ::openat(node.dir->fds(node.path).front()->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw system_error("open directory", host_path(node).string());
    return fd;
}

std::string SourceView::read_all(const Node& node) const {
    UniqueFd fd = open_file(node);
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw system_error("read", host_path(node).string());
        }
        if (n == 0) return out;
        out.append(buf, static_cast<size_t>(n));
    }
}

std::shared_ptr<const UniqueFd> SourceView::layer_root(size_t layer) const {
    if (layer >= layer_roots_.size())
        throw Error(ErrorKind::kInternal, "layer_root: no layer " + std::to_string(layer));
    return layer_roots_[layer];
}

std::filesystem::path SourceView::host_path(const Node& node) const {
    return host_path_string(node);
}

std::string SourceView::host_path_string(const Node& node) const {
    if (layer_paths_.empty()) return node.path;
    // Joined as strings: a std::filesystem::path splits itself into
    // components on construction, per copied file.
    const std::string& base = layer_paths_[node.layer].native();
    std::string out;
    out.reserve(base.size() + node.path.size());
    out = base;
    if (!out.empty() && out.back() == '/') out.pop_back();
    out += node.path == "/" ? "/" : node.path;
    return out;
}

LayerStackView::LayerStackView(std::vector<std::filesystem::path> layers, std::string description)
    : SourceView(Config{std::move(layers), std::move(description), true, true, false}) {}

BuildContext::BuildContext(std::filesystem::path root, frontend::DockerIgnore ignore)
    : SourceView(Config{{std::move(root)}, "the build context", false, false, true}),
      ignore_(std::move(ignore)) {}

namespace {

mode_t file_type_bits(cache::EntryType t) {
    switch (t) {
        case cache::EntryType::kFile:
            return S_IFREG;
        case cache::EntryType::kDir:
            return S_IFDIR;
        case cache::EntryType::kSymlink:
            return S_IFLNK;
        case cache::EntryType::kFifo:
            return S_IFIFO;
        case cache::EntryType::kSocket:
            return S_IFSOCK;
        case cache::EntryType::kCharDevice:
            return S_IFCHR;
        case cache::EntryType::kBlockDevice:
            return S_IFBLK;
    }
    return 0;
}

// The lstat the snapshot's walk took of `e`, as far as the snapshot keeps it.
struct stat stat_of(const cache::Entry* e) {
    struct stat st {};
    st.st_mode = file_type_bits(e->type) | e->mode;
    st.st_uid = e->uid;
    st.st_gid = e->gid;
    st.st_size = static_cast<off_t>(e->size);
    st.st_rdev = e->rdev;
    st.st_dev = e->dev;
    st.st_ino = e->ino;
    st.st_nlink = e->nlink;
    st.st_mtim.tv_sec = static_cast<time_t>(e->mtime_ns / 1000000000);
    st.st_mtim.tv_nsec = static_cast<long>(e->mtime_ns % 1000000000);
    if (st.st_mtim.tv_nsec < 0) {
        st.st_mtim.tv_nsec += 1000000000;
        --st.st_mtim.tv_sec;
    }
    st.st_atim = st.st_mtim;
    st.st_ctim = st.st_mtim;
    return st;
}

}  // namespace

std::optional<struct stat> BuildContext::known_stat(const std::string& path) const {
    const cache::ContextSnapshot* snap = snapshot_.load();
    if (!snap) return std::nullopt;
    const cache::Entry* e = snap->find(relative_path(path));
    // A socket is in the snapshot as the empty file a COPY makes of it; the
    // copy still needs to see the socket.
    if (!e || e->was_socket) return std::nullopt;
    return stat_of(e);
}

std::optional<std::vector<Node>> BuildContext::known_children(const Node& dir) const {
    const cache::ContextSnapshot* snap = snapshot_.load();
    if (!snap || !dir.dir || dir.type != FileType::kDirectory) return std::nullopt;
    const cache::Entry* e = snap->find(relative_path(dir.path));
    if (!e || e->type != cache::EntryType::kDir) return std::nullopt;
    const auto& fds = dir.dir->fds(dir.path);
    if (fds.size() != 1) return std::nullopt;
    std::vector<Node> out;
    for (const cache::Entry& c : snap->children(*e)) {
        if (c.was_socket) {  // the copy needs to see the socket: asked for
            if (auto n = child(dir, c.name())) out.push_back(std::move(*n));
            continue;
        }
        Node n;
        n.name = c.name();
        n.path = child_path(dir.path, n.name);
        n.st = stat_of(&c);
        n.type = file_type_of(n.st.st_mode);
        n.parent_fd = fds[0];
        if (n.type == FileType::kSymlink) n.link_target = c.link_target;
        if (n.type == FileType::kDirectory)
            n.dir = std::make_shared<const MergedDir>(std::vector<LayerDir>{{0, fds[0], n.name}});
        if (!hidden(n)) out.push_back(std::move(n));
    }
    return out;
}

std::optional<cache::StatRecord> SourceView::snapshot_identity(const Node&) const {
    return std::nullopt;
}

std::optional<cache::StatRecord> BuildContext::snapshot_identity(const Node& node) const {
    const cache::ContextSnapshot* snap = snapshot_.load();
    if (!snap || node.layer != 0 || node.type != FileType::kRegular) return std::nullopt;
    const cache::Entry* e = snap->find(relative_path(node.path));
    if (!e || e->type != cache::EntryType::kFile || e->was_socket) return std::nullopt;
    return reuse_identity(e->dev, e->ino, e->size, e->mtime_ns, e->ctime_ns, S_IFREG | e->mode,
                          e->content);
}

bool BuildContext::hidden(const Node& node) const {
    const std::string rel = relative_path(node.path);
    if (rel.empty() || !ignore_.excluded(rel)) return false;
    if (node.type != FileType::kDirectory || ignore_.can_skip_dir(rel)) return true;
    // An excluded directory stays visible only to hold entries that an
    // exception pattern ("!dir/keep") brings back.
    return !dir_has_visible_entry(node);
}

bool BuildContext::dir_has_visible_entry(const Node& dir) const {
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = dir_visible_.find(dir.path);
        if (it != dir_visible_.end()) return it->second;
    }
    const bool visible = !children(dir).empty();
    dir.dir->close();
    std::lock_guard<std::mutex> lock(mu_);
    dir_visible_[dir.path] = visible;
    return visible;
}

}  // namespace strata::executor
