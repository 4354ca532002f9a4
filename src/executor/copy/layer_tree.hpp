// LayerTree — every write COPY/ADD makes into the new layer directory.
//
// Writes are relative to open directory descriptors and never follow a
// symlink: directories are opened with O_NOFOLLOW one component at a time,
// files are created with O_CREAT|O_EXCL|O_NOFOLLOW, ownership, modes and
// times are set through the new descriptor or with AT_SYMLINK_NOFOLLOW. So a
// symlink in the layer (one COPY just wrote) or in a source cannot redirect a
// write outside the layer. Names starting with ".wh." are refused: in a layer
// they would read as whiteouts.
//
// Directory times are applied last (finish()), deepest first, since adding
// entries to a directory changes its mtime.
//
// write_file and defer_mtime may be called from several threads at once
// (WritePool); the other operations from one thread.
//
// Record mode (record_files(), a COPY straight to the layer tar): regular
// files are not made but recorded with where their bytes are; lstat() and
// remove() treat a recorded file as if it were there, and take_layer_files()
// hands them to store::write_layer, which writes them among the
// directory's entries. Directories, symlinks and the rest are still made, so
// every rule that looks at the layer works as before.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.hpp"
#include "cache/stat_cache.hpp"
#include "store/layer_writer.hpp"

namespace strata::executor {

struct EntryMeta {
    uint32_t mode = 0644;  // permission, set-id and sticky bits
    uint32_t uid = 0;
    uint32_t gid = 0;
    struct timespec mtime {};
};

// Where a recorded file's bytes are: a canonical path in a source layer.
struct SourceFile {
    std::shared_ptr<const UniqueFd> root;  // the layer's root (SourceView::layer_root)
    std::string path;                      // canonical, in that layer
    std::string shown;                     // the file on disk, for messages
    uint64_t size = 0;                     // as the walk saw it
    // A build-context file's stat and content hash, as the context snapshot
    // has them (SourceView::snapshot_identity): what copy_reuse.hpp matches.
    std::optional<cache::StatRecord> identity;
};

class LayerTree {
  public:
    // An open directory of the layer and its canonical path ("/", "/app").
    struct Dir {
        std::shared_ptr<const UniqueFd> fd;
        std::string path;
    };

    explicit LayerTree(const std::filesystem::path& dir);

    const std::filesystem::path& path() const { return path_; }
    Dir root() const { return root_; }

    // lstat of `name` in `dir`; nullopt when missing.
    std::optional<struct stat> lstat(const Dir& dir, const std::string& name) const;

    // Opens the existing directory `name` of `dir` (never through a symlink).
    Dir open_dir(const Dir& dir, const std::string& name) const;
    // Opens the directory at `path` ("/a/b"), each component a real directory.
    Dir open_path(std::string_view path) const;

    // Creates directory `name` with `meta` (mtime deferred), or opens it when
    // it exists (then `meta` is applied only with `update_existing`). Throws
    // kConflict when a non-directory is there.
    Dir make_dir(const Dir& dir, const std::string& name, const EntryMeta& meta,
                 bool update_existing);

    // Removes `name` (recursively for a directory); missing is fine.
    void remove(const Dir& dir, const std::string& name);

    // A directory holding an earlier result of the same step (a previous
    // build's layer): write_file() from a descriptor links a file from there
    // instead of copying when it is identical — same path, size, mode, owner,
    // mtime, no xattrs, same bytes. Layers are never modified, so sharing
    // the inode is safe, and a rebuild after an edit then allocates inodes
    // only for what changed (ext4's inode allocation is the cost of a big
    // COPY, and gets several times slower right after many deletions).
    void reuse_from(const std::filesystem::path& dir);
    // Files linked from the reuse directory so far.
    uint64_t entries_reused() const { return reused_.load(); }

    // Creates a regular file from `src_fd` (read from its current offset) or
    // from `content`. `xattr_src` (or -1) is a descriptor whose layer xattrs
    // (security.capability, user.*) are copied. The name must be free.
    uint64_t write_file(const Dir& dir, const std::string& name, int src_fd, const EntryMeta& meta,
                        int xattr_src);
    uint64_t write_file(const Dir& dir, const std::string& name, std::string_view content,
                        const EntryMeta& meta);
    // Creates a regular file whose content `fill` writes to the descriptor
    // it is given (returning the byte count).
    uint64_t write_file_with(const Dir& dir, const std::string& name,
                             const std::function<uint64_t(int fd)>& fill, const EntryMeta& meta);
    // Applies owner, mode and mtime to an existing regular file.
    void set_file_meta(const Dir& dir, const std::string& name, const EntryMeta& meta);
    void write_symlink(const Dir& dir, const std::string& name, const std::string& target,
                       const EntryMeta& meta);
    // Char/block devices, fifos, sockets (`type` is the S_IFMT value).
    void write_special(const Dir& dir, const std::string& name, mode_t type, dev_t rdev,
                       const EntryMeta& meta);
    // Hardlink `name` in `dir` to the existing regular file `target_path`.
    void link(const std::string& target_path, const Dir& dir, const std::string& name);

    // Applies metadata to an existing directory (mtime deferred).
    void set_dir_meta(const Dir& dir, const EntryMeta& meta);
    // Copies layer xattrs of `src_fd` onto the directory.
    void copy_dir_xattrs(int src_fd, const Dir& dir);

    // Directory mtime to apply at finish() (the last value for a path wins).
    void defer_mtime(const std::string& dir_path, const struct timespec& mtime);
    void finish();

    // Times as the layer's tar keeps them (whole seconds, store/layer_writer):
    // the directory is then what unpacking its blob makes, whether a RUN
    // mounts this one or, later, one unpacked from the blob. Call before
    // anything is written.
    void whole_second_times() { whole_seconds_ = true; }

    // Record mode (above). Call before anything is written.
    void record_files() { recording_ = true; }
    bool records_files() const { return recording_; }
    // Records the regular file `name` of `dir` (the name must be free).
    void record_file(const Dir& dir, const std::string& name, SourceFile source,
                     const EntryMeta& meta);
    // The lstat a recorded file at canonical `path` ("/app/x") would have.
    std::optional<struct stat> recorded(const std::string& path) const;
    // The recorded files as entries for store::write_layer (tar paths
    // relative to the layer root), sorted by name; `identities` (if given)
    // gets their sources' SourceFile::identity in the same order. The xattrs
    // a file gets are those the filesystem of `probe_dir` takes (the
    // store's, where write_file would have made it). Call once, when the
    // copy is done: the sources move into the entries (recorded() still
    // answers).
    std::vector<store::LayerFile> take_layer_files(
        const std::filesystem::path& probe_dir,
        std::vector<std::optional<cache::StatRecord>>* identities = nullptr);

    // Bytes of file content written so far.
    uint64_t bytes_written() const { return bytes_.load(); }
    uint64_t entries_written() const { return entries_.load(); }

  private:
    std::string child_path(const Dir& dir, const std::string& name) const;
    void check_name(const Dir& dir, const std::string& name) const;

    std::filesystem::path path_;
    Dir root_;
    std::mutex deferred_mu_;
    std::map<std::string, struct timespec> deferred_;
    std::atomic<uint64_t> bytes_{0};
    std::atomic<uint64_t> entries_{0};
    std::atomic<uint64_t> reused_{0};
    UniqueFd reuse_root_;
    struct Recorded {
        SourceFile source;
        EntryMeta meta;
    };
    bool recording_ = false;
    bool whole_seconds_ = false;
    // `t` as this tree stores it (whole_second_times).
    struct timespec stored(const struct timespec& t) const {
        return whole_seconds_ ? timespec{t.tv_sec, 0} : t;
    }
    std::map<std::string, Recorded> recorded_;  // by canonical path
    // Record mode: the names on disk in each directory this tree made (by
    // canonical path). Nothing else writes to the layer directory, so lstat()
    // of another name there is known missing without a system call (a COPY
    // of 10,000 files into a new directory asked the disk 10,000 times).
    mutable std::mutex made_mu_;
    std::map<std::string, std::set<std::string>> made_;
    void note_made(const Dir& dir, const std::string& name);

    // Links the identical file at `path` of the reuse directory as `name` of
    // `dir`; false when there is none (nothing changed then).
    bool link_identical(const Dir& dir, const std::string& name, int src_fd, const EntryMeta& meta);
};

// Copies the bytes of `in` (from its offset) to `out`: reflink, then
// copy_file_range, then read/write. Returns the number of bytes.
uint64_t copy_fd_content(int in, int out, const std::string& what);

// Copies the layer xattrs (security.capability, user.* except user.overlay.*)
// from one descriptor to another; unsupported xattrs are skipped.
void copy_layer_xattrs(int src_fd, int dst_fd);

}  // namespace strata::executor
