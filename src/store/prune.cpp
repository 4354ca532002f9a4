#include "store/prune.hpp"

#include <sys/stat.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "store/export_image.hpp"

namespace strata::store {

namespace fs = std::filesystem;

uint64_t tree_size(const fs::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return 0;
    if (!S_ISDIR(st.st_mode)) return static_cast<uint64_t>(st.st_size);
    uint64_t total = 0;
    std::set<std::pair<dev_t, ino_t>> seen;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(
             path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (::lstat(it->path().c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
        if (st.st_nlink > 1 && !seen.insert({st.st_dev, st.st_ino}).second) continue;
        total += static_cast<uint64_t>(st.st_size);
    }
    return total;
}

GcRoots image_roots(const std::vector<ImageRecord>& images) {
    GcRoots roots;
    for (const auto& img : images) {
        for (const auto& d : img.blobs())
            roots.blobs.insert(d);
        for (const auto& l : img.layers)
            roots.layers.insert(l.diff_id);
    }
    return roots;
}

void delete_unreferenced(ImageStore& store, const GcRoots& candidates, const GcRoots& roots,
                         PruneReport& report) {
    for (const auto& d : candidates.blobs) {
        if (roots.blobs.count(d) || !store.content().has(d)) continue;
        uint64_t size = store.content().size(d);
        store.content().remove(d);
        report.blobs.emplace_back(d, size);
        report.freed += size;
    }
    for (const auto& d : candidates.layers) {
        if (roots.layers.count(d) || !std::filesystem::exists(store.layers().path(d))) continue;
        uint64_t size = tree_size(store.layers().path(d));
        store.layers().remove(d);
        report.layers.emplace_back(d, size);
        report.freed += size;
    }
}

namespace {

// Leftovers of interrupted work: everything in tmp/ (no lease is held, so
// nothing there is in use) and AtomicFile temp files ".<name>.tmpXXXXXX".
void remove_leftovers(ImageStore& store, PruneReport& report) {
    std::error_code ec;
    for (auto it = fs::directory_iterator(store.tmp_dir(), ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
        uint64_t size = tree_size(it->path());
        remove_tree(it->path());
        report.other.emplace_back("tmp/" + it->path().filename().string(), size);
        report.freed += size;
    }
    for (const auto& dir : {store.root(), store.images_dir()}) {
        for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
             it.increment(ec)) {
            std::string name = it->path().filename().string();
            if (name.size() > 1 && name[0] == '.' && name.find(".tmp") != std::string::npos) {
                uint64_t size = tree_size(it->path());
                remove_tree(it->path());
                report.other.emplace_back(fs::relative(it->path(), store.root()).string(), size);
                report.freed += size;
            }
        }
    }
}

// Copies of unpacked layers (layers/<hex>.<n>/, for chains that repeat a
// layer) go with their layer; one left without it (an interrupted removal)
// or without a root goes now.
void remove_orphan_copies(ImageStore& store, const GcRoots& roots, PruneReport& report) {
    for (const auto& c : store.layers().list_copies()) {
        if (roots.layers.count(c.diff_id) && fs::exists(store.layers().path(c.diff_id))) continue;
        const fs::path p = store.layers().path(c.diff_id, c.occurrence);
        const uint64_t size = tree_size(p);
        store.layers().remove_copy(c);
        report.other.emplace_back("layers/" + p.filename().string(), size);
        report.freed += size;
    }
}

}  // namespace

PruneReport prune_store(ImageStore& store, const PruneOptions& opts) {
    PruneReport report;
    LockFile gc = store.gc_exclusive();
    auto txn = store.begin();
    if (opts.dangling_images || opts.unused_images) {
        for (const auto& img : txn.images()) {
            const auto names = txn.names().names_of(img.manifest);
            if (!names.empty() && !opts.unused_images) continue;
            if (opts.users && !opts.users(img).empty()) continue;
            if (opts.image_filter && !opts.image_filter(img)) continue;
            for (const auto& n : names) {
                txn.untag(n);
                report.untagged.push_back(n);
            }
            txn.remove_image(img.manifest);
            report.images.push_back(img);
        }
    }
    std::vector<ImageRecord> images = txn.images();
    GcRoots roots = image_roots(images);
    for (auto* p : opts.participants)
        p->prune(roots, report);
    for (auto* p : opts.participants)
        p->add_roots(roots);
    txn.commit();

    GcRoots everything;
    for (const auto& d : store.content().list())
        everything.blobs.insert(d);
    for (const auto& d : store.layers().list())
        everything.layers.insert(d);
    delete_unreferenced(store, everything, roots, report);
    // Compressed copies made for save/push are not roots: they went above.
    remove_stale_export_memos(store);
    remove_orphan_copies(store, roots, report);
    remove_leftovers(store, report);
    return report;
}

}  // namespace strata::store
