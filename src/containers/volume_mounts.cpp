#include "containers/volume_mounts.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <utility>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "executor/copy/layer_tree.hpp"
#include "executor/copy/source_view.hpp"
#include "store/safe_path.hpp"

namespace strata::containers {

namespace fs = std::filesystem;
using executor::EntryMeta;
using executor::FileType;
using executor::LayerStackView;
using executor::LayerTree;
using executor::Node;

namespace {

bool dir_is_empty(const fs::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw system_error("open volume directory", dir.string());
    return store::list_dir(fd.get(), dir.string()).empty();
}

// Copies the merged image tree below a directory node into the volume, as
// Docker's copy of the image's content keeps it: owners, modes, times,
// xattrs, symlinks as symlinks, hard links within the tree as hard links.
// Sockets are left out (a tar copy has none).
class VolumeCopier {
  public:
    VolumeCopier(const LayerStackView& view, LayerTree& tree) : view_(view), tree_(tree) {}

    void copy_root(const Node& dir) {
        UniqueFd src = view_.open_directory(dir);
        tree_.copy_dir_xattrs(src.get(), tree_.root());
        tree_.set_dir_meta(tree_.root(), meta_of(dir));
        copy_children(dir, tree_.root());
        tree_.defer_mtime("/", dir.st.st_mtim);
        tree_.finish();
    }

  private:
    static EntryMeta meta_of(const Node& n) {
        EntryMeta m;
        m.mode = n.type == FileType::kSymlink ? 0777 : (n.st.st_mode & 07777);
        m.uid = n.st.st_uid;
        m.gid = n.st.st_gid;
        m.mtime = n.st.st_mtim;
        return m;
    }

    void copy_children(const Node& dir, const LayerTree::Dir& to) {
        for (const Node& n : view_.children(dir)) {
            const EntryMeta meta = meta_of(n);
            switch (n.type) {
                case FileType::kDirectory: {
                    LayerTree::Dir sub = tree_.make_dir(to, n.name, meta, true);
                    UniqueFd src = view_.open_directory(n);
                    tree_.copy_dir_xattrs(src.get(), sub);
                    copy_children(n, sub);
                    tree_.defer_mtime(sub.path, meta.mtime);
                    break;
                }
                case FileType::kRegular: {
                    const auto key = std::make_pair(n.st.st_dev, n.st.st_ino);
                    if (n.st.st_nlink > 1) {
                        if (auto it = links_.find(key); it != links_.end()) {
                            tree_.link(it->second, to, n.name);
                            break;
                        }
                    }
                    UniqueFd fd = view_.open_file(n);
                    tree_.write_file(to, n.name, fd.get(), meta, fd.get());
                    if (n.st.st_nlink > 1)
                        links_[key] = to.path == "/" ? "/" + n.name : to.path + "/" + n.name;
                    break;
                }
                case FileType::kSymlink:
                    tree_.write_symlink(to, n.name, n.link_target, meta);
                    break;
                case FileType::kSocket:
                    break;
                default:
                    tree_.write_special(to, n.name, n.st.st_mode & S_IFMT, n.st.st_rdev, meta);
                    break;
            }
        }
        dir.dir->close();
    }

    const LayerStackView& view_;
    LayerTree& tree_;
    std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

bool copy_up_volume(VolumeStore& volumes, Volume& v, const std::vector<fs::path>& image_layers,
                    std::string_view target) {
    if (v.populated) return false;
    LockFile held = volumes.lock(v);
    // Another container may have done it while we waited.
    if (auto now = volumes.find(v.name)) v = *now;
    if (v.populated) return false;
    const fs::path data = v.mountpoint();
    if (!dir_is_empty(data)) {
        // Docker copies only into an empty volume; someone wrote to it.
        volumes.mark_populated(v);
        return false;
    }
    LayerStackView view(image_layers, "the image");
    const executor::Resolved r = view.resolve(target, true);
    if (!r.node || r.node->type != FileType::kDirectory) return false;
    try {
        LayerTree tree(data);
        VolumeCopier(view, tree).copy_root(*r.node);
    } catch (...) {
        // Empty again, so that the next start tries again from scratch.
        UniqueFd fd(::open(data.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (fd) {
            try {
                store::remove_children_except(fd.get(), data.string(),
                                              [](const std::string&) { return false; });
            } catch (const Error&) {
            }
        }
        throw;
    }
    volumes.mark_populated(v);
    return true;
}

std::vector<sandbox::Mount> sandbox_mounts(const fs::path& store_root, const Container& c,
                                           const std::vector<fs::path>& image_layers) {
    std::vector<MountSpec> specs = c.spec.mounts;
    std::stable_sort(specs.begin(), specs.end(), [](const MountSpec& a, const MountSpec& b) {
        return std::count(a.target.begin(), a.target.end(), '/') <
               std::count(b.target.begin(), b.target.end(), '/');
    });
    VolumeStore volumes(store_root);
    std::vector<sandbox::Mount> out;
    for (const MountSpec& m : specs) {
        sandbox::Mount s;
        s.target = m.target;
        s.read_only = m.read_only;
        switch (m.type) {
            case MountSpec::Type::kBind: {
                s.kind = sandbox::Mount::Kind::kBind;
                // The user's own host path: followed as the host sees it.
                std::error_code ec;
                if (!fs::exists(m.source, ec)) {
                    // Docker creates a missing -v source as a directory.
                    fs::create_directories(m.source, ec);
                    if (ec)
                        throw system_error("create the bind mount source", m.source, ec.value());
                    ::chmod(m.source.c_str(), 0755);
                }
                const fs::path real = fs::canonical(m.source, ec);
                if (ec) throw system_error("resolve the bind mount source", m.source, ec.value());
                if (fs::is_directory(real)) {
                    s.source_root = real;
                    s.source_path = "/";
                } else {
                    s.source_root = real.parent_path();
                    s.source_path = "/" + real.filename().string();
                }
                break;
            }
            case MountSpec::Type::kVolume: {
                if (m.source.empty())
                    throw Error(ErrorKind::kInternal,
                                "a volume mount on " + m.target + " has no volume name");
                Volume v = volumes.find(m.source).value_or(Volume{});
                if (v.name.empty()) v = volumes.create(m.source, {}, m.anonymous);
                if (!m.no_copy) copy_up_volume(volumes, v, image_layers, m.target);
                s.kind = sandbox::Mount::Kind::kBind;
                s.source_root = v.mountpoint();
                s.source_path = "/";
                break;
            }
            case MountSpec::Type::kTmpfs:
                s.kind = sandbox::Mount::Kind::kTmpfs;
                s.size_bytes = m.tmpfs_size;
                s.tmpfs_mode = m.tmpfs_mode;
                break;
        }
        out.push_back(std::move(s));
    }
    return out;
}

void create_volumes(const std::filesystem::path& store_root, const Container& c) {
    VolumeStore volumes(store_root);
    for (const MountSpec& m : c.spec.mounts)
        if (m.type == MountSpec::Type::kVolume && !m.source.empty() && !volumes.find(m.source))
            volumes.create(m.source, {}, m.anonymous);
}

}  // namespace strata::containers
