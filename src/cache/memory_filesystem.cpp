#include "cache/memory_filesystem.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <vector>

#include "base/error.hpp"

namespace strata::cache {

struct MemoryFilesystem::Node {
    FileStat st;
    std::string content;  // files: the bytes; symlinks: the target
    std::map<std::string, std::unique_ptr<Node>, std::less<>> children;
    bool denied = false;
    bool is_dir() const { return S_ISDIR(st.mode); }
};

namespace {

using Node = MemoryFilesystem::Node;

std::vector<std::string_view> split(std::string_view path) {
    std::vector<std::string_view> parts;
    size_t i = 0;
    while (i < path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        if (j > i) parts.push_back(path.substr(i, j - i));
        i = j + 1;
    }
    return parts;
}

class MemoryDirectory final : public Directory {
  public:
    MemoryDirectory(const Node& node, std::string path, MemoryFilesystem::Counters& counters,
                    size_t chunk)
        : node_(node), path_(std::move(path)), counters_(counters), chunk_(chunk) {}

    void list(std::string& names) override {
        ++counters_.lists;
        for (auto it = node_.children.rbegin(); it != node_.children.rend(); ++it)
            names.append(it->first.c_str(), it->first.size() + 1);
    }

    void stat_self(FileStat& st) override {
        ++counters_.stats;
        st = node_.st;
    }

    bool stat(const char* name, FileStat& st) override {
        ++counters_.stats;
        const Node* n = child(name);
        if (!n) return false;
        st = n->st;
        return true;
    }

    std::unique_ptr<Directory> open_dir(const char* name) override {
        ++counters_.opens;
        const Node* n = child(name);
        if (!n) return nullptr;
        if (!n->is_dir()) throw system_error("open directory", full(name), ENOTDIR);
        if (n->denied) throw system_error("open directory", full(name), EACCES);
        return std::make_unique<MemoryDirectory>(*n, full(name), counters_, chunk_);
    }

    std::string read_link(const char* name) override {
        ++counters_.readlinks;
        const Node* n = child(name);
        if (!n) throw system_error("readlink", full(name), ENOENT);
        if (!S_ISLNK(n->st.mode)) throw system_error("readlink", full(name), EINVAL);
        return n->content;
    }

    bool read_file(const char* name, FileStat& st, ByteSink& sink) override {
        const Node* n = child(name);
        if (!n) return false;
        if (S_ISLNK(n->st.mode)) throw system_error("open", full(name), ELOOP);
        if (n->denied) throw system_error("open", full(name), EACCES);
        if (!S_ISREG(n->st.mode))
            throw Error(ErrorKind::kSystem, "'" + full(name) +
                                                "' changed while the build context was read: "
                                                "it is no longer a regular file");
        ++counters_.reads;
        counters_.bytes_read += n->content.size();
        st = n->st;
        std::string_view data = n->content;
        while (!data.empty()) {
            size_t k = std::min(data.size(), chunk_);
            sink.write(data.data(), k);
            data.remove_prefix(k);
        }
        return true;
    }

    const std::string& path() const override { return path_; }

  private:
    const Node* child(const char* name) const {
        auto it = node_.children.find(std::string_view(name));
        return it == node_.children.end() ? nullptr : it->second.get();
    }
    std::string full(const char* name) const {
        return path_.empty() || path_.back() == '/' ? path_ + name : path_ + "/" + name;
    }

    const Node& node_;
    std::string path_;
    MemoryFilesystem::Counters& counters_;
    size_t chunk_;
};

}  // namespace

MemoryFilesystem::MemoryFilesystem() : root_(std::make_unique<Node>()) {
    root_->st.mode = S_IFDIR | 0755;
    root_->st.dev = 1;
    root_->st.ino = next_ino_++;
    root_->st.mtime_ns = root_->st.ctime_ns = now_;
}

MemoryFilesystem::~MemoryFilesystem() = default;

void MemoryFilesystem::reset_counters() {
    counters_.lists = counters_.stats = counters_.opens = counters_.readlinks = 0;
    counters_.reads = counters_.bytes_read = 0;
}

std::unique_ptr<Directory> MemoryFilesystem::open_root(const std::string& path) {
    Node* n = root_.get();
    for (std::string_view part : split(path)) {
        auto it = n->children.find(part);
        if (it == n->children.end()) throw system_error("open build context", path, ENOENT);
        n = it->second.get();
        // The root path may go through symlinks on a real disk; here it may not.
        if (!n->is_dir()) throw system_error("open build context", path, ENOTDIR);
    }
    if (n->denied) throw system_error("open build context", path, EACCES);
    return std::make_unique<MemoryDirectory>(*n, path, counters_, read_chunk_);
}

MemoryFilesystem::Node& MemoryFilesystem::lookup(std::string_view path) {
    Node* n = root_.get();
    for (std::string_view part : split(path)) {
        auto it = n->children.find(part);
        if (it == n->children.end())
            throw Error(ErrorKind::kNotFound, "memory filesystem: no " + std::string(path));
        n = it->second.get();
    }
    return *n;
}

MemoryFilesystem::Node& MemoryFilesystem::create(std::string_view path, uint32_t st_mode) {
    auto parts = split(path);
    if (parts.empty()) throw Error(ErrorKind::kInternal, "memory filesystem: cannot create root");
    Node* n = root_.get();
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        auto it = n->children.find(parts[i]);
        if (it == n->children.end()) {
            auto d = std::make_unique<Node>();
            d->st = FileStat{1, next_ino_++, 4096, 0, now_, now_, S_IFDIR | 0755, 0, 0};
            it = n->children.emplace(std::string(parts[i]), std::move(d)).first;
            n->st.mtime_ns = n->st.ctime_ns = now_;
        }
        n = it->second.get();
        if (!n->is_dir())
            throw Error(ErrorKind::kInternal,
                        "memory filesystem: not a dir in " + std::string(path));
    }
    auto node = std::make_unique<Node>();
    node->st = FileStat{1, next_ino_++, 0, 0, now_, now_, st_mode, 0, 0};
    Node& ref = *node;
    n->children[std::string(parts.back())] = std::move(node);
    n->st.mtime_ns = n->st.ctime_ns = now_;
    return ref;
}

void MemoryFilesystem::add_dir(std::string_view path, uint32_t mode) {
    create(path, S_IFDIR | (mode & 07777)).st.size = 4096;
}

void MemoryFilesystem::add_file(std::string_view path, std::string_view content, uint32_t mode) {
    Node& n = create(path, S_IFREG | (mode & 07777));
    n.content = content;
    n.st.size = content.size();
}

void MemoryFilesystem::add_symlink(std::string_view path, std::string_view target) {
    Node& n = create(path, S_IFLNK | 0777);
    n.content = target;
    n.st.size = target.size();
}

void MemoryFilesystem::add_special(std::string_view path, EntryType type, uint64_t rdev,
                                   uint32_t mode) {
    uint32_t fmt = 0;
    switch (type) {
        case EntryType::kFifo:
            fmt = S_IFIFO;
            break;
        case EntryType::kSocket:
            fmt = S_IFSOCK;
            break;
        case EntryType::kCharDevice:
            fmt = S_IFCHR;
            break;
        case EntryType::kBlockDevice:
            fmt = S_IFBLK;
            break;
        default:
            throw Error(ErrorKind::kInternal, "add_special: not a special type");
    }
    create(path, fmt | (mode & 07777)).st.rdev = rdev;
}

void MemoryFilesystem::write(std::string_view path, std::string_view content) {
    Node& n = lookup(path);
    n.content = content;
    n.st.size = content.size();
    n.st.mtime_ns = n.st.ctime_ns = now_;
}

void MemoryFilesystem::set_mtime(std::string_view path, int64_t mtime_ns) {
    set_times(path, mtime_ns, now_);
}

void MemoryFilesystem::set_times(std::string_view path, int64_t mtime_ns, int64_t ctime_ns) {
    Node& n = lookup(path);
    n.st.mtime_ns = mtime_ns;
    n.st.ctime_ns = ctime_ns;
}

void MemoryFilesystem::chmod(std::string_view path, uint32_t mode) {
    Node& n = lookup(path);
    n.st.mode = (n.st.mode & S_IFMT) | (mode & 07777);
    n.st.ctime_ns = now_;
}

void MemoryFilesystem::chown(std::string_view path, uint32_t uid, uint32_t gid) {
    Node& n = lookup(path);
    n.st.uid = uid;
    n.st.gid = gid;
    n.st.ctime_ns = now_;
}

void MemoryFilesystem::set_inode(std::string_view path, uint64_t ino) {
    lookup(path).st.ino = ino;
}

void MemoryFilesystem::deny(std::string_view path) {
    lookup(path).denied = true;
}

void MemoryFilesystem::remove(std::string_view path) {
    auto parts = split(path);
    if (parts.empty()) throw Error(ErrorKind::kInternal, "memory filesystem: cannot remove root");
    std::string parent;
    for (size_t i = 0; i + 1 < parts.size(); ++i)
        (parent += parts[i]) += '/';
    Node& p = lookup(parent);
    if (p.children.erase(std::string(parts.back())) == 0)
        throw Error(ErrorKind::kNotFound, "memory filesystem: no " + std::string(path));
    p.st.mtime_ns = p.st.ctime_ns = now_;
}

void MemoryFilesystem::rename(std::string_view from, std::string_view to) {
    auto fparts = split(from);
    std::string fparent;
    for (size_t i = 0; i + 1 < fparts.size(); ++i)
        (fparent += fparts[i]) += '/';
    Node& fp = lookup(fparent);
    auto it = fp.children.find(fparts.back());
    if (it == fp.children.end())
        throw Error(ErrorKind::kNotFound, "memory filesystem: no " + std::string(from));
    std::unique_ptr<Node> node = std::move(it->second);
    fp.children.erase(it);
    fp.st.mtime_ns = fp.st.ctime_ns = now_;
    node->st.ctime_ns = now_;
    Node& placeholder = create(to, S_IFREG);
    placeholder = std::move(*node);
}

}  // namespace strata::cache
