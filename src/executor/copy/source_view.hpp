// Read-only views of a filesystem that COPY/ADD reads from or looks at:
//
// - LayerStackView: a stack of unpacked layer directories, lowest first, with
//   overlayfs conventions (a whiteout is a char device 0:0 named like the
//   deleted entry; a directory with trusted.overlay.opaque=y or
//   user.overlay.opaque=y hides everything below it). A merged rootfs is a
//   stack of one. This is what COPY --from=stage|image reads, and how COPY
//   looks at the destination's state (does /dst exist, /etc/passwd, ...).
// - BuildContext: the build context directory, where files a .dockerignore
//   excludes are invisible, and a symlink that leads out of the context is an
//   error instead of being re-rooted.
//
// Paths are absolute within the view ("/usr/bin"). Symlinks are resolved as
// in a chroot: an absolute target starts again at the view's root and ".."
// never climbs above it, so resolution never leaves the view. All access is
// by file descriptor, component by component, with O_NOFOLLOW.
//
// Views hold no cache of directory contents: a view over a directory that is
// being written (the new layer on top of its parent) sees each write.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/unique_fd.hpp"
#include "cache/context_snapshot.hpp"
#include "cache/stat_cache.hpp"
#include "frontend/dockerignore.hpp"

namespace strata::executor {

enum class FileType : uint8_t {
    kRegular,
    kDirectory,
    kSymlink,
    kCharDevice,
    kBlockDevice,
    kFifo,
    kSocket,
};

FileType file_type_of(mode_t mode);
const char* file_type_name(FileType type);

// One layer's copy of a merged directory: where it is in that layer.
struct LayerDir {
    size_t layer = 0;                        // index into the view's layers (0 = lowest)
    std::shared_ptr<const UniqueFd> parent;  // its parent directory (a layer root: itself)
    std::string name;                        // "." for a layer root
};

// A directory as the merged view sees it: the layer directories that
// contribute to it, top-most first. Their descriptors are opened on first
// use only, so that listing a directory with many subdirectories does not
// hold a descriptor per subdirectory and layer.
class MergedDir {
  public:
    explicit MergedDir(std::vector<LayerDir> layers) : layers_(std::move(layers)) {}
    const std::vector<LayerDir>& layers() const { return layers_; }
    // The open directories, in the order of layers(); `what` names it in errors.
    const std::vector<std::shared_ptr<const UniqueFd>>& fds(const std::string& what) const;
    // Drops the descriptors (entries still using them keep theirs open);
    // walkers call it when done with a directory.
    void close() const;

  private:
    std::vector<LayerDir> layers_;
    mutable std::mutex mu_;
    mutable bool opened_ = false;
    mutable std::vector<std::shared_ptr<const UniqueFd>> fds_;
};

// One entry of a view.
struct Node {
    std::string path;  // canonical (no symlinks) absolute path: "/", "/etc/passwd"
    std::string name;  // last component ("" for the root)
    FileType type = FileType::kDirectory;
    struct stat st {};        // lstat of the entry in the layer that provides it
    std::string link_target;  // for symlinks
    size_t layer = 0;         // the layer that provides it
    // Where it lives: its parent directory in that layer (null for the root).
    std::shared_ptr<const UniqueFd> parent_fd;
    // For directories: the merged directory.
    std::shared_ptr<const MergedDir> dir;
};

// The result of resolving a path.
struct Resolved {
    std::string path;            // canonical absolute path (lexical past a missing element)
    std::optional<Node> node;    // nullopt when nothing is there
    bool parent_exists = false;  // the directory that would hold it exists
};

class SourceView {
  public:
    virtual ~SourceView() = default;
    SourceView(const SourceView&) = delete;
    SourceView& operator=(const SourceView&) = delete;

    // For messages: "the build context", "stage 'build'", ...
    const std::string& description() const { return description_; }
    // Whether copies keep the entries' uid/gid (stages and images) or land as
    // 0:0 (the build context).
    bool keeps_ownership() const { return keep_owner_; }
    // The layer directories, lowest first.
    const std::vector<std::filesystem::path>& layers() const { return layer_paths_; }

    Node root() const;
    // The entry `name` of directory `dir` (no symlink following); nullopt
    // when missing, whited out or hidden.
    std::optional<Node> child(const Node& dir, std::string_view name) const;
    // The visible entries of directory `dir`, sorted by name (bytewise).
    std::vector<Node> children(const Node& dir) const;

    // Resolves `path` (absolute or relative to the root) inside the view.
    // Intermediate symlinks are always followed, the last one only with
    // `follow_final`.
    Resolved resolve(std::string_view path, bool follow_final) const;
    std::optional<Node> lookup(std::string_view path, bool follow_final) const;

    // Opens a regular file for reading.
    UniqueFd open_file(const Node& node) const;
    // Opens the regular file at canonical `path` of layer `layer` (a Node's
    // `layer` and `path`), resolved inside that layer directory
    // (base/in_root.hpp; a final symlink is not followed).
    UniqueFd open_file_at(size_t layer, std::string_view path) const;
    // Opens a directory for reading (its top-most layer copy).
    UniqueFd open_directory(const Node& node) const;
    // The whole content of a regular file.
    std::string read_all(const Node& node) const;
    // The file on disk that provides `node` (for hashing by path).
    std::filesystem::path host_path(const Node& node) const;
    std::string host_path_string(const Node& node) const;  // the same, as a string
    // The open root directory of layer `layer`: with a Node's canonical
    // path, what opens its file later, after the view is gone
    // (open_in_root, as open_file_at does).
    std::shared_ptr<const UniqueFd> layer_root(size_t layer) const;

    // Entries of the top layer that are not in its directory: for a
    // canonical path, the lstat of a regular file that is there all the
    // same (a COPY that writes its files straight into the layer tar records
    // them instead of making them, LayerTree::record_files). child() and so
    // resolve() see them like files on disk; children() does not list them.
    // A regular file's stat (ctime included) and content hash as the build
    // context's snapshot has them; nullopt for every other view and entry.
    virtual std::optional<cache::StatRecord> snapshot_identity(const Node& node) const;

    using RecordedEntries = std::function<std::optional<struct stat>(const std::string& path)>;
    void set_recorded_entries(RecordedEntries entries) { recorded_ = std::move(entries); }

  protected:
    struct Config {
        std::vector<std::filesystem::path> layers;  // lowest first
        std::string description;
        bool overlay = true;  // interpret whiteouts and opaque dirs
        bool keep_owner = true;
        bool escape_is_error = false;  // symlinks leading outside: error, not re-rooted
    };
    explicit SourceView(Config config);

    // Whether an entry is invisible (the build context's .dockerignore).
    virtual bool hidden(const Node& node) const;
    // The lstat of the top layer's entry at canonical `path` when the view
    // knows it without asking the disk (set_recorded_entries; the build
    // context's snapshot), else nullopt.
    virtual std::optional<struct stat> known_stat(const std::string& path) const;
    // The visible entries of directory `dir` when the view knows them
    // without listing the directory (the build context's snapshot), in
    // children()'s order; else nullopt.
    virtual std::optional<std::vector<Node>> known_children(const Node& dir) const;

  private:
    std::optional<Node> child_impl(const Node& dir, std::string_view name) const;

    std::vector<std::filesystem::path> layer_paths_;
    std::vector<std::shared_ptr<const UniqueFd>> layer_roots_;
    std::string description_;
    bool overlay_ = true;
    bool keep_owner_ = true;
    bool escape_is_error_ = false;
    RecordedEntries recorded_;
};

class LayerStackView : public SourceView {
  public:
    // `layers` lowest first; no layers is an empty filesystem (scratch).
    explicit LayerStackView(std::vector<std::filesystem::path> layers,
                            std::string description = "the image");
};

class BuildContext : public SourceView {
  public:
    BuildContext(std::filesystem::path root, frontend::DockerIgnore ignore);

    const std::filesystem::path& root_path() const { return layers().front(); }
    const frontend::DockerIgnore& ignore() const { return ignore_; }

    // The snapshot this build's cache keys were computed from (the same
    // directory): from then on an entry it holds is looked up in it, with
    // the stat its walk took, instead of being stat'ed again — one system
    // call fewer per copied file, and the view agrees with the keys. What it
    // does not hold (ignored names, a socket) is stat'ed as before. Set
    // once, before the view is shared; `snapshot` outlives the view.
    void use_snapshot(const cache::ContextSnapshot& snapshot) { snapshot_.store(&snapshot); }

    std::optional<cache::StatRecord> snapshot_identity(const Node& node) const override;

  protected:
    bool hidden(const Node& node) const override;
    std::optional<struct stat> known_stat(const std::string& path) const override;
    std::optional<std::vector<Node>> known_children(const Node& dir) const override;

  private:
    bool dir_has_visible_entry(const Node& dir) const;

    std::atomic<const cache::ContextSnapshot*> snapshot_{nullptr};

    frontend::DockerIgnore ignore_;
    mutable std::mutex mu_;
    mutable std::unordered_map<std::string, bool> dir_visible_;
};

// "a/b" for "/a/b"; "" for "/".
std::string relative_path(std::string_view abs_path);

}  // namespace strata::executor
