// The planner's ImageResolver over the local store: FROM IMAGE and
// COPY --from=IMAGE name images that `strata load`, `import` or an earlier
// build put there. (Pulling from a registry is the registry's issue; until
// then a missing image is an error that says how to bring it in.)
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "executor/progress.hpp"
#include "planner/planner.hpp"
#include "store/image_store.hpp"

namespace strata::executor {

class StoreImageResolver final : public planner::ImageResolver {
  public:
    // `next_id` hands out progress vertex ids.
    StoreImageResolver(store::ImageStore& store, ProgressSink& progress,
                       std::function<int()> next_id);

    planner::BaseImage resolve(const std::string& ref, const planner::Platform& platform) override;

    // What resolve() found, by manifest digest ("sha256:…").
    const store::ImageRecord& record(const std::string& digest) const;
    const store::ImageConfig& config(const std::string& digest) const;
    // Every reference resolved so far and the manifest digest it named, in
    // order, without repeats (a build summary checks them again).
    std::vector<std::pair<std::string, std::string>> resolved() const;

  private:
    struct Resolved {
        store::ImageRecord record;
        store::ImageConfig config;
    };
    store::ImageStore& store_;
    ProgressSink& progress_;
    std::function<int()> next_id_;
    mutable std::mutex mu_;
    std::map<std::string, Resolved> by_digest_;
    std::vector<std::pair<std::string, std::string>> resolved_;
};

}  // namespace strata::executor
