#include "store/image_import.hpp"

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "store/docker_archive_load.hpp"
#include "store/image_config_time.hpp"
#include "store/image_store_scan.hpp"
#include "store/layer_writer.hpp"

namespace strata::store {

ImportResult import_rootfs(ImageStore& store, int fd, const ImportOptions& opts) {
    ImageConfig config;
    for (const auto& change : opts.changes)
        apply_config_change(config.config, change);

    LockFile lease = store.lease();
    TempDir staging = TempDir::create(store.tmp_dir(), "import-");
    ContentStore stage(staging.path() / "store");
    StoreTarOptions sopts;
    sopts.compression = opts.compression;
    LayerBlob blob = store_layer_tar(fd, stage, sopts);
    // The input can only be read once (stdin): check the staged copy.
    std::string what = fmt::format("rootfs tarball {}", opts.source);
    LayerScan scan = scan_layer_blob(stage, blob.digest, what);
    if (scan.diff_id != blob.diff_id)
        throw Error(ErrorKind::kInternal, fmt::format("{}: diffID changed while storing it", what));
    publish_blob(stage, store.content(), blob.digest);

    Timestamp created =
        opts.source_date_epoch ? Timestamp{*opts.source_date_epoch, 0} : now_timestamp();
    HostPlatform host = host_platform();
    config.created = format_timestamp(created);
    config.os = opts.os.empty() ? host.os : opts.os;
    config.architecture = opts.architecture.empty() ? host.architecture : opts.architecture;
    config.variant = opts.architecture.empty() ? host.variant : opts.variant;
    HistoryEntry h;
    h.created = config.created;
    h.comment = opts.message.empty() ? "Imported from " + opts.source : opts.message;
    config.history.push_back(h);
    config.extra["comment"] = h.comment;  // Docker's top-level "comment", shown by inspect

    LayerRecord layer{blob.digest, blob.diff_id, blob.size, blob.media_type, scan.unpacked_size};
    ImportResult result;
    result.image = store.write_image(config, {layer});
    auto txn = store.begin();
    txn.put_image(result.image);
    if (opts.name) {
        auto prev = txn.tag(*opts.name, result.image.manifest);
        if (prev && *prev != result.image.manifest) result.replaced = prev;
    }
    txn.commit();
    return result;
}

}  // namespace strata::store
