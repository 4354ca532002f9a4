#include "containers/container_export.hpp"

#include <sys/stat.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "containers/container_diff.hpp"
#include "containers/container_record.hpp"
#include "containers/image_layers.hpp"
#include "sandbox/tree_diff.hpp"
#include "store/layer_writer.hpp"

namespace strata::containers {

namespace fs = std::filesystem;

void export_merged_tar(const std::vector<fs::path>& lower, const fs::path& upper,
                       const std::set<std::string>& exclude, const fs::path& scratch_parent,
                       const store::ByteSink& sink) {
    std::error_code ec;
    fs::create_directories(scratch_parent, ec);
    TempDir scratch = TempDir::create(scratch_parent, "export-");
    if (::chmod(scratch.path().c_str(), 0755) != 0)
        throw system_error("chmod", scratch.path().string());
    std::vector<fs::path> layers = lower;
    layers.push_back(upper);
    sandbox::materialize_layers(layers, scratch.path());
    store::LayerWriteOptions lw;
    lw.compression = store::Compression::kNone;
    lw.exclude = exclude;
    store::write_layer_to(scratch.path(), sink, lw);
    scratch.remove();
}

void export_container(store::ImageStore& store, const Container& c, const store::ByteSink& sink) {
    const auto image = store.image(store::Digest::parse(c.spec.image_manifest));
    if (!image)
        throw Error(ErrorKind::kNotFound,
                    fmt::format("the image of container {} ({}) is no longer in the store",
                                c.short_id(), c.spec.image_name));
    // Nothing written meanwhile is garbage to prune, but the scratch copy is
    // staging data under tmp/: hold a lease as every writer of tmp/ does.
    LockFile lease = store.lease();
    const std::vector<fs::path> lower = image_layer_dirs(store, *image);
    // A stub the image has too (a directory copied up to hold a mount point)
    // is part of the filesystem.
    std::set<std::string> exclude;
    for (const auto& s : mount_stubs(lower, c.upper(), container_mount_points(c)))
        if (!lower_entry(lower, s)) exclude.insert(s);
    export_merged_tar(lower, c.upper(), exclude, store.tmp_dir(), sink);
}

}  // namespace strata::containers
