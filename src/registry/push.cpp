#include "registry/push.hpp"

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "base/error.hpp"
#include "registry/parallel.hpp"
#include "store/export_image.hpp"

namespace strata::registry {
namespace {

struct Blob {
    store::Digest digest;
    uint64_t size = 0;
    bool layer = true;
};

}  // namespace

PushResult push_image(store::ImageStore& store, RegistryClient& client, const std::string& repo,
                      const std::string& tag, const store::ImageRecord& image,
                      const PushOptions& options) {
    std::mutex progress_mu;
    auto progress = [&](PushEvent e) {
        if (!options.progress) return;
        std::lock_guard lock(progress_mu);
        options.progress(e);
    };
    auto lease = store.lease();
    store::ExportOptions eo;
    eo.compression = options.compression;
    eo.keep_compressed = !options.force_compression;
    const store::ImageRecord out = store::export_image(store, image, eo);

    std::vector<Blob> blobs;
    for (const auto& l : out.layers)
        blobs.push_back({l.digest, l.size, true});
    for (const auto& b : blobs)
        progress({PushEvent::Kind::kPreparing, b.digest.short_id(), 0, b.size, ""});
    // The config goes with the layers; Docker shows no line for it.
    blobs.push_back({out.config, out.config_size, false});

    PushResult result;
    std::atomic<uint64_t> uploaded{0};
    std::atomic<int> skipped{0};
    run_parallel(blobs.size(), options.parallel, [&](size_t i) {
        const Blob& b = blobs[i];
        const std::string id = b.digest.short_id();
        if (client.blob_exists(repo, b.digest)) {
            ++skipped;
            if (b.layer) progress({PushEvent::Kind::kExists, id, b.size, b.size, ""});
            return;
        }
        for (const auto& from : options.mount_from) {
            if (from == repo || !client.mount_blob(repo, b.digest, from)) continue;
            ++skipped;
            if (b.layer) progress({PushEvent::Kind::kMounted, id, b.size, b.size, from});
            return;
        }
        UniqueFd fd = store.content().open(b.digest);
        client.upload_blob(repo, b.digest, BlobSource::from_fd(fd.get(), b.size),
                           [&](uint64_t done, uint64_t) {
                               if (b.layer)
                                   progress({PushEvent::Kind::kPushing, id, done, b.size, ""});
                           });
        uploaded += b.size;
        if (b.layer) progress({PushEvent::Kind::kPushed, id, b.size, b.size, ""});
    });

    // The manifest last: the registry checks that every blob it names is there.
    const std::string manifest = store.content().read(out.manifest);
    const std::string reference = tag.empty() ? out.manifest.str() : tag;
    const store::Digest pushed =
        client.put_manifest(repo, reference, out.manifest_media_type, manifest);
    if (pushed != out.manifest)
        throw Error(ErrorKind::kCorrupt,
                    fmt::format("push to {}: the registry stored the manifest as {}, strata "
                                "sent {}",
                                repo, pushed.str(), out.manifest.str()));
    result.manifest = out.manifest;
    result.manifest_size = manifest.size();
    result.uploaded = uploaded;
    result.blobs_skipped = skipped;
    return result;
}

}  // namespace strata::registry
