#include "executor/store_image_resolver.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "base/error.hpp"

namespace strata::executor {

StoreImageResolver::StoreImageResolver(store::ImageStore& store, ProgressSink& progress,
                                       std::function<int()> next_id, ImagePuller pull,
                                       bool always_pull)
    : store_(store),
      progress_(progress),
      next_id_(std::move(next_id)),
      pull_(std::move(pull)),
      always_pull_(always_pull) {}

planner::BaseImage StoreImageResolver::resolve(const std::string& ref,
                                               const planner::Platform& platform) {
    const auto parsed = store::Reference::try_parse(ref);
    const std::string shown = parsed ? parsed->with_default_tag().str() : ref;
    Vertex v(progress_, next_id_(), "[internal] load metadata for " + shown);
    // A name (not an image ID) can be pulled: always with --pull, else
    // when the store lacks it.
    const bool pullable = pull_ && parsed && !store::looks_like_id(ref);
    store::ImageMatch match;
    bool found = false;
    if (!(pullable && always_pull_)) {
        try {
            match = store_.lookup(ref);
            found = true;
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::kNotFound) throw;
            if (!pullable) {
                v.failed("not found");
                throw Error(ErrorKind::kNotFound,
                            fmt::format("{}: image not found in the store: pull it from a "
                                        "registry (`strata pull {}`), or bring it in with "
                                        "`strata load -i IMAGE.tar` or `strata import ROOTFS.tar "
                                        "{}`",
                                        ref, ref, ref));
            }
        }
    }
    if (!found) {
        try {
            match.image = pull_(*parsed, platform, [&v](std::string_view l) { v.log(l); });
        } catch (const Error& e) {
            v.failed(e.what());
            throw;
        }
    }
    store::ImageConfig config = store_.config(match.image);
    const std::string os = config.os.empty() ? "linux" : config.os;
    if (os != platform.os || config.architecture != platform.architecture ||
        (!platform.variant.empty() && !config.variant.empty() &&
         config.variant != platform.variant)) {
        std::string have = os + "/" + config.architecture;
        if (!config.variant.empty()) have += "/" + config.variant;
        v.failed("wrong platform");
        throw Error(ErrorKind::kUsage, fmt::format("{}: the image is for {}, the build is for {}",
                                                   ref, have, platform.str()));
    }

    planner::BaseImage base;
    base.digest = match.image.manifest.str();
    base.canonical_ref = shown;
    base.env = config.config.env;
    base.working_dir = config.config.working_dir;
    base.user = config.config.user;
    base.shell = config.config.shell.value_or(std::vector<std::string>{});
    base.onbuild = config.config.on_build;
    base.empty_rootfs = match.image.layers.empty();
    {
        std::lock_guard lock(mu_);
        by_digest_.emplace(base.digest, Resolved{match.image, std::move(config)});
        std::pair<std::string, std::string> seen(ref, base.digest);
        if (std::find(resolved_.begin(), resolved_.end(), seen) == resolved_.end())
            resolved_.push_back(std::move(seen));
    }
    v.done();
    return base;
}

const store::ImageRecord& StoreImageResolver::record(const std::string& digest) const {
    std::lock_guard lock(mu_);
    auto it = by_digest_.find(digest);
    if (it == by_digest_.end())
        throw Error(ErrorKind::kInternal, "image " + digest + " was not resolved");
    return it->second.record;
}

std::vector<std::pair<std::string, std::string>> StoreImageResolver::resolved() const {
    std::lock_guard lock(mu_);
    return resolved_;
}

const store::ImageConfig& StoreImageResolver::config(const std::string& digest) const {
    std::lock_guard lock(mu_);
    auto it = by_digest_.find(digest);
    if (it == by_digest_.end())
        throw Error(ErrorKind::kInternal, "image " + digest + " was not resolved");
    return it->second.config;
}

}  // namespace strata::executor
