#include "store/image_store_remove.hpp"

#include <fmt/format.h>

#include "base/error.hpp"

namespace strata::store {

namespace {

// Docker's isSingleReference: the names are of one repository, at most one
// of them a tag (the rest digests); false for none.
bool single_reference(const std::vector<Reference>& names) {
    if (names.empty()) return false;
    size_t tags = 0;
    for (const auto& n : names) {
        if (n.repository() != names.front().repository()) return false;
        if (!n.digest) ++tags;
    }
    return tags <= 1;
}

// Docker's conflicts of an image with its containers, by ID: a running
// container's always, a stopped one's unless forced.
void check_users(const std::vector<ImageUser>& users, const Digest& config, bool force) {
    for (const auto& u : users)
        if (u.running)
            throw Error(ErrorKind::kConflict,
                        fmt::format("conflict: unable to delete {} (cannot be forced) - image is "
                                    "being used by running container {}",
                                    short_id(config), u.container));
    if (force) return;
    for (const auto& u : users)
        throw Error(ErrorKind::kConflict,
                    fmt::format("conflict: unable to delete {} (must be forced) - image is being "
                                "used by stopped container {}",
                                short_id(config), u.container));
}

}  // namespace

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
    const auto users_of = [&](const ImageRecord& img) {
        return opts.users ? opts.users(img) : std::vector<ImageUser>{};
    };
    for (const auto& arg : args) {
        try {
            auto images = txn.images();
            ImageMatch m = store.lookup(arg, txn.names(), images);
            if (m.name) {
                // Its last name would leave it nameless under a container:
                // only forced, as in Docker.
                if (!opts.force && single_reference(txn.names().names_of(m.image.manifest)))
                    for (const auto& u : users_of(m.image))
                        throw Error(ErrorKind::kConflict,
                                    fmt::format("conflict: unable to remove repository reference "
                                                "\"{}\" (must force) - container {} is using its "
                                                "referenced image {}",
                                                arg, u.container, short_id(m.image.config)));
                txn.untag(*m.name);
                out.lines.push_back("Untagged: " + m.name->familiar());
                if (txn.names().names_of(m.image.manifest).empty() && users_of(m.image).empty()) {
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
            for (const auto& img : targets)
                for (const auto& n : txn.names().names_of(img.manifest))
                    names.push_back(n);
            std::vector<ImageUser> users;
            for (const auto& img : targets) {
                auto u = users_of(img);
                users.insert(users.end(), u.begin(), u.end());
            }
            // Docker's order: running containers, then names (more than one
            // tag, or several repositories), then stopped containers.
            check_users(users, m.image.config, /*force=*/true);
            if (!names.empty() && !single_reference(names) && !opts.force)
                throw Error(ErrorKind::kConflict,
                            fmt::format("conflict: unable to delete {} (must be forced) - image is "
                                        "referenced in multiple repositories",
                                        short_id(m.image.config)));
            check_users(users, m.image.config, opts.force);
            for (const auto& n : names) {
                txn.untag(n);
                out.lines.push_back("Untagged: " + n.familiar());
            }
            bool deleted = false;
            for (const auto& img : targets)
                if (users_of(img).empty()) {
                    remove_record(img);
                    deleted = true;
                }
            if (deleted) out.lines.push_back("Deleted: " + m.image.config.str());
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
