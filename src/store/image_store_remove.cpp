#include "store/image_store_remove.hpp"

#include <fmt/format.h>

#include <set>

#include "base/error.hpp"

namespace strata::store {

RemoveOutcome remove_images(ImageStore& store, const std::vector<std::string>& args,
                            const RemoveOptions& opts) {
    RemoveOutcome out;
    LockFile gc = store.gc_exclusive();
    auto txn = store.begin();
    GcRoots candidates;
    auto remove_record = [&](const ImageRecord& img) {
        for (const auto& d : img.blobs())
            candidates.blobs.insert(d);
        for (const auto& l : img.layers)
            candidates.layers.insert(l.diff_id);
        txn.remove_image(img.manifest);
    };
    for (const auto& arg : args) {
        try {
            auto images = txn.images();
            ImageMatch m = store.lookup(arg, txn.names(), images);
            if (m.name) {
                txn.untag(*m.name);
                out.lines.push_back("Untagged: " + m.name->familiar());
                if (txn.names().names_of(m.image.manifest).empty()) {
                    remove_record(m.image);
                    out.lines.push_back("Deleted: " + m.image.config.str());
                }
                continue;
            }
            // By ID: the image is every record with that config; by digest: one record.
            std::vector<ImageRecord> targets;
            for (const auto& img : images)
                if (m.by_id ? img.config == m.image.config : img.manifest == m.image.manifest)
                    targets.push_back(img);
            std::vector<Reference> names;
            std::set<std::string> repos;
            for (const auto& img : targets)
                for (const auto& n : txn.names().names_of(img.manifest)) {
                    names.push_back(n);
                    repos.insert(n.repository());
                }
            if (repos.size() > 1 && !opts.force)
                throw Error(ErrorKind::kConflict,
                            fmt::format("conflict: unable to delete {} (must be forced) - image is "
                                        "referenced in multiple repositories",
                                        short_id(m.image.config)));
            for (const auto& n : names) {
                txn.untag(n);
                out.lines.push_back("Untagged: " + n.familiar());
            }
            for (const auto& img : targets)
                remove_record(img);
            out.lines.push_back("Deleted: " + m.image.config.str());
        } catch (const Error& e) {
            if (e.kind() == ErrorKind::kSystem || e.kind() == ErrorKind::kInternal) throw;
            out.errors.push_back(e.what());
        }
    }
    GcRoots roots = image_roots(txn.images());
    PruneReport report;
    for (auto* p : opts.participants)
        p->add_roots(roots);
    txn.commit();
    delete_unreferenced(store, candidates, roots, report);
    out.freed = report.freed;
    return out;
}

}  // namespace strata::store
