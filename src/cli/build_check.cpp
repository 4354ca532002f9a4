#include "cli/build_check.hpp"

#include <fmt/format.h>

#include "cli/build_progress.hpp"
#include "diff/image_diff.hpp"

namespace strata::cli {

int check_reproducible(executor::BuildRequest request, store::ImageStore& store,
                       const executor::BuildResult& first, const std::string& progress,
                       executor::RunExecutor* runner) {
    request.scratch = true;
    request.plan.no_cache = true;
    request.tags.clear();
    request.explain = false;
    // The first build's epoch (flag, build arg or ARG default) for the second.
    if (first.source_date_epoch) request.source_date_epoch = first.source_date_epoch;

    // The scratch image's blobs are referenced by no record: the lease keeps
    // prune away until the comparison is done.
    auto lease = store.lease();
    if (progress != "quiet")
        fmt::print(stderr, "checking reproducibility: building again without the cache\n");
    std::unique_ptr<executor::ProgressSink> sink;
    if (progress == "quiet")
        sink = std::make_unique<executor::NullProgress>();
    else
        sink = make_plain_progress(stderr);
    executor::BuildResult second = executor::build(request, store, *sink, runner);
    sink.reset();

    diff::DiffOptions options;
    if (!first.source_date_epoch) options.ignore |= diff::kIgnoreTimestamps;
    auto a = diff::load_store_image(store, first.image, "build");
    auto b = diff::load_store_image(store, second.image, "rebuild");
    diff::LayerCache cache;
    auto report = diff::compare_images(a, b, options, &cache);
    if (!first.source_date_epoch)
        fmt::print(stderr,
                   "note: SOURCE_DATE_EPOCH is not set, so timestamps (file mtimes, created "
                   "times) cannot match and were not compared; set SOURCE_DATE_EPOCH (or "
                   "--source-date-epoch) to check them too\n");
    if (report.identical()) {
        if (a.manifest_digest == b.manifest_digest)
            fmt::print("reproducible: {}\n", a.manifest_digest);
        else
            fmt::print("reproducible apart from timestamps: {} and {}\n", a.config_digest,
                       b.config_digest);
        return 0;
    }
    fmt::print("not reproducible: a second build without the cache differs\n{}",
               diff::render_text(report, a, b));
    return 1;
}

}  // namespace strata::cli
