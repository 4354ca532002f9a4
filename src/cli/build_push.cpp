// `strata build --push` and `--output type=registry|image,push=true`: the
// built image pushed to each name, with `docker push`'s lines.
#include <fmt/format.h>

#include <set>
#include <string>

#include "cli/pull_push.hpp"
#include "registry/push.hpp"

namespace strata::cli {
namespace {

void print_event(std::FILE* out, const registry::PushEvent& e) {
    using K = registry::PushEvent::Kind;
    switch (e.kind) {
        case K::kPreparing:
            fmt::print(out, "{}: Preparing\n", e.id);
            break;
        case K::kPushed:
            fmt::print(out, "{}: Pushed\n", e.id);
            break;
        case K::kExists:
            fmt::print(out, "{}: Layer already exists\n", e.id);
            break;
        case K::kMounted:
            fmt::print(out, "{}: Mounted from {}\n", e.id, e.from);
            break;
        case K::kPushing:
            return;
    }
    std::fflush(out);
}

}  // namespace

void push_built_image(LazyRegistrySession& session, store::ImageStore& store,
                      const store::ImageRecord& image, const std::vector<store::Reference>& dests,
                      std::FILE* out) {
    for (const auto& dest : dests) {
        registry::PushOptions opts;
        // Repositories of the same registry that have the image (an earlier
        // name of this loop, a pull): mount sources before uploading.
        std::set<std::string> from;
        for (const auto& n : store.names().names_of(image.manifest))
            if (n.domain == dest.domain && n.path != dest.path) from.insert(n.path);
        opts.mount_from.assign(from.begin(), from.end());
        if (out) {
            fmt::print(out, "The push refers to repository [{}]\n", dest.repository());
            std::fflush(out);
            opts.progress = [out](const registry::PushEvent& e) { print_event(out, e); };
        }
        const registry::PushResult r = registry::push_image(
            store, session.get().pusher(dest.domain), dest.path, dest.tag, image, opts);
        if (out) {
            fmt::print(out, "{}: digest: {} size: {}\n", dest.tag, r.manifest.str(),
                       r.manifest_size);
            std::fflush(out);
        }
    }
}

}  // namespace strata::cli
