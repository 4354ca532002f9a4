// The planner's ImageResolver over the local store: FROM IMAGE and
// COPY --from=IMAGE name images that `strata load`, `import`, `pull` or an
// earlier build put there; an image the store lacks is pulled from its
// registry when the build was given a puller (the CLI's registry session),
// and every name is pulled again with `--pull`.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "executor/progress.hpp"
#include "planner/planner.hpp"
#include "store/image_store.hpp"

namespace strata::executor {

// Pulls `ref` for `platform` into the store and returns the image; `log`
// takes status lines for the build's progress (the resolved digest, each
// layer's download, as BuildKit shows them).
using PullLog = std::function<void(std::string_view line)>;
using ImagePuller = std::function<store::ImageRecord(
    const store::Reference& ref, const planner::Platform& platform, const PullLog& log)>;

class StoreImageResolver final : public planner::ImageResolver {
  public:
    // `next_id` hands out progress vertex ids.
    StoreImageResolver(store::ImageStore& store, ProgressSink& progress,
                       std::function<int()> next_id, ImagePuller pull = {},
                       bool always_pull = false);

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
    ImagePuller pull_;
    bool always_pull_ = false;
    mutable std::mutex mu_;
    std::map<std::string, Resolved> by_digest_;
    std::vector<std::pair<std::string, std::string>> resolved_;
};

}  // namespace strata::executor
