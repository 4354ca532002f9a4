// `strata system df`: Docker's disk-usage summary of the store — images,
// containers, local volumes, build cache — with docker/cli's columns and its
// arithmetic (formatter/disk_usage.go): an image's size is its unpacked
// layers, layers two images share counted once in the total; an image in use
// by a container frees only its own layers, so the rest is "reclaimable";
// a container's size is its upper directory, reclaimable when it is not
// running; a volume is reclaimable when no container uses it. The build
// cache is strata's cache directory (entries, memos, RUN cache mounts) and
// the layer blobs only cache entries hold.
#include "cli/system_df.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

#include "cache/cache_index.hpp"
#include "cli/human_size.hpp"
#include "cli/image_commands_common.hpp"
#include "containers/container_record.hpp"
#include "containers/volume_store.hpp"
#include "store/prune.hpp"

namespace strata::cli {
namespace {

struct Row {
    std::string type;
    uint64_t total = 0, active = 0, size = 0, reclaimable = 0;
};

std::string reclaimable_text(const Row& r, bool percent) {
    if (r.size == 0 || !percent) return human_size(r.reclaimable, 4);
    return fmt::format("{} ({}%)", human_size(r.reclaimable, 4), r.reclaimable * 100 / r.size);
}

}  // namespace

void run_system_df(const GlobalOptions& global) {
    auto store = open_store(global);
    containers::ContainerStore containers(store->root());

    // Containers first: which images and volumes are in use.
    Row ctrs{"Containers"};
    std::set<std::string> used_manifests;
    for (containers::Container& c : containers.list()) {
        containers.refresh(c);
        const bool running = c.state.status == containers::Status::kRunning;
        const uint64_t size = store::tree_size(c.upper());
        ++ctrs.total;
        ctrs.size += size;
        if (running)
            ++ctrs.active;
        else
            ctrs.reclaimable += size;
        used_manifests.insert(c.spec.image_manifest);
    }

    Row images{"Images"};
    std::vector<store::ImageRecord> records = store->images();
    std::map<store::Digest, std::pair<uint64_t, int>> layers;  // diffID → size, images using it
    for (auto& img : records) {
        img = measured(*store, img);
        std::set<store::Digest> mine;
        for (const auto& l : img.layers)
            if (mine.insert(l.diff_id).second) {
                auto& [size, users] = layers[l.diff_id];
                size = l.unpacked_size.value_or(0);
                ++users;
            }
    }
    for (const auto& [diff_id, entry] : layers)
        images.size += entry.first;
    uint64_t used = 0;
    for (const auto& img : records) {
        ++images.total;
        if (!used_manifests.count(img.manifest.str())) continue;
        ++images.active;
        std::set<store::Digest> mine;
        for (const auto& l : img.layers)  // Size - SharedSize: its own layers only
            if (mine.insert(l.diff_id).second && layers[l.diff_id].second == 1)
                used += layers[l.diff_id].first;
    }
    images.reclaimable = images.size - std::min(used, images.size);

    Row vols{"Local Volumes"};
    containers::VolumeStore volumes(store->root());
    for (const auto& v : volumes.list()) {
        const uint64_t size = store::tree_size(v.mountpoint());
        ++vols.total;
        vols.size += size;
        if (!volumes.users(v.name).empty())
            ++vols.active;
        else
            vols.reclaimable += size;
    }

    Row cache{"Build Cache"};
    cache::CacheIndex index(store->cache_dir());
    std::set<store::Digest> image_blobs;
    for (const auto& img : records)
        for (const auto& d : img.blobs())
            image_blobs.insert(d);
    std::set<store::Digest> cache_blobs;
    for (const auto& e : index.list()) {
        ++cache.total;
        if (e.layer && !image_blobs.count(e.layer->digest)) cache_blobs.insert(e.layer->digest);
    }
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(store->cache_dir() / "mounts", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++cache.total;
    cache.size = store::tree_size(store->cache_dir());
    for (const auto& d : cache_blobs)
        if (store->content().has(d)) cache.size += store->content().size(d);
    cache.reclaimable = cache.size;  // nothing of it is in use while no build runs

    Table table({"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"});
    // docker/cli gives the build cache's reclaimable size without a percentage.
    for (const Row* row : {&images, &ctrs, &vols, &cache}) {
        const Row& r = *row;
        table.add({r.type, std::to_string(r.total), std::to_string(r.active), human_size(r.size, 4),
                   reclaimable_text(r, &r != &cache)});
    }
    fmt::print("{}", table.render());
}

}  // namespace strata::cli
