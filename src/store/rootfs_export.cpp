#include "store/rootfs_export.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "store/layer_reader.hpp"
#include "store/layer_writer.hpp"
#include "store/safe_path.hpp"

namespace strata::store {

namespace {

// Sets every mtime under `dirfd` that is later than `epoch` to it. Changing a
// child's times does not touch its directory's mtime, so one pass suffices.
void clamp_tree(int dirfd, const std::string& path, int64_t epoch) {
    const std::vector<std::string> names = list_dir(dirfd, path);
    for (const auto& name : names) {
        const std::string child = path + "/" + name;
        struct stat st {};
        if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw system_error("stat", child);
        if (S_ISDIR(st.st_mode)) {
            UniqueFd sub(
                ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub) throw system_error("open", child);
            clamp_tree(sub.get(), child, epoch);
        }
        if (st.st_mtim.tv_sec < epoch || (st.st_mtim.tv_sec == epoch && st.st_mtim.tv_nsec == 0))
            continue;
        const struct timespec times[2] = {{epoch, 0}, {epoch, 0}};
        if (::utimensat(dirfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
            throw system_error("set times", child);
    }
}

void apply_layers(const ImageStore& store, const ImageRecord& image,
                  const std::filesystem::path& dest, const RootfsExportOptions& opts) {
    ApplyOptions ao;
    ao.whiteouts = WhiteoutMode::kApply;
    ao.same_owner = opts.same_owner;
    for (const auto& layer : image.layers) {
        UniqueFd fd = store.content().open(layer.digest);
        ao.expected_diff_id = layer.diff_id;
        apply_layer(fd.get(), dest, ao);
    }
}

}  // namespace

void export_rootfs_dir(const ImageStore& store, const ImageRecord& image,
                       const std::filesystem::path& dest, const RootfsExportOptions& opts) {
    std::error_code ec;
    std::filesystem::create_directories(dest, ec);
    if (ec)
        throw Error(ErrorKind::kSystem,
                    "create directory '" + dest.string() + "': " + ec.message());
    apply_layers(store, image, dest, opts);
    if (opts.source_date_epoch) {
        UniqueFd root(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!root) throw system_error("open", dest.string());
        clamp_tree(root.get(), dest.string(), *opts.source_date_epoch);
    }
}

void export_rootfs_tar(const ImageStore& store, const ImageRecord& image, const ByteSink& sink,
                       const RootfsExportOptions& opts) {
    TempDir scratch = TempDir::create(store.tmp_dir(), "rootfs-");
    if (::chmod(scratch.path().c_str(), 0755) != 0)
        throw system_error("chmod", scratch.path().string());
    apply_layers(store, image, scratch.path(), opts);
    // The layer writer's rules, uncompressed, its mtimes clamped to the epoch.
    LayerWriteOptions lw;
    lw.compression = Compression::kNone;
    lw.source_date_epoch = opts.source_date_epoch;
    write_layer_to(scratch.path(), sink, lw);
    scratch.remove();
}

}  // namespace strata::store
