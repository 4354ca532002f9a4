// build(): a Dockerfile and a context in, an image in the store out.
//
//   parse → plan (stages the target needs, expanded steps) → for each stage,
//   in dependency order and independent stages in parallel: for each step,
//   its cache key (planner::KeyComputer, with BuildDigester for content),
//   then either the cached result (no filesystem work at all) or the step
//   run for real (COPY/ADD/WORKDIR here, RUN through a RunExecutor), its
//   layer written to the store and recorded in the cache index → the target
//   stage's config and layers written as an image, and tagged.
//
// Nothing is printed: progress goes to the ProgressSink. Errors that belong
// to a Dockerfile line (parse and plan errors, a COPY source that is
// missing, a RUN that fails) are frontend::ParseError with the location;
// anything else is strata::Error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cache/cache_export.hpp"
#include "executor/progress.hpp"
#include "executor/run/build_secrets.hpp"
#include "executor/run/run_executor.hpp"
#include "executor/store_image_resolver.hpp"
#include "frontend/diagnostic.hpp"
#include "planner/planner.hpp"
#include "store/compression.hpp"
#include "store/image_store.hpp"

namespace strata::executor {

struct BuildRequest {
    std::string dockerfile_text;
    std::string dockerfile_name = "Dockerfile";  // in messages ("-f" as given, or "<stdin>")
    std::filesystem::path dockerfile_path;       // for Dockerfile.dockerignore; empty: stdin
    std::filesystem::path context_dir;           // empty: an empty context
    // False for a context that is a Git checkout: BuildKit applies no
    // .dockerignore to one.
    bool context_dockerignore = true;
    // --build-context NAME=DIR|GIT-URL: the local named contexts, by the
    // name's key (plan.named_contexts has them as kLocal; images are the
    // planner's); a checked-out Git one without its .dockerignore.
    struct NamedContextDir {
        std::filesystem::path dir;
        bool dockerignore = true;
    };
    std::map<std::string, NamedContextDir> named_contexts;
    // Progress ids before this one are the caller's (a Git context's fetch).
    int first_vertex_id = 0;
    // Keep a stat cache for the context in the store (false for contexts
    // unpacked from a tar, which are new every time).
    bool cache_context_stats = true;
    // Identifies "the same Dockerfile and context" for --explain across builds
    // (the CLI passes the paths as given); defaults to the two paths.
    std::string explain_id;
    planner::PlanOptions plan;  // target, build args, --no-cache(-filter), platforms
    std::vector<store::Reference> tags;
    std::map<std::string, std::string> labels;       // --label, applied to the final image
    std::map<std::string, std::string> annotations;  // --annotation: the manifest's
    std::optional<int64_t> source_date_epoch;
    unsigned jobs = 0;  // stages built at once; 0 = the number of cores
    bool explain = false;
    // A scratch build (`build --check-reproducible`'s second one): it neither
    // records cache entries nor the --explain record, tags nothing and
    // publishes no image record; its blobs are content-addressed (prune frees
    // them). Combine with plan.no_cache to skip cache lookups.
    bool scratch = false;
    store::Compression compression = store::Compression::kNone;
    std::vector<SecretSource> secrets;  // --secret (values are read when a RUN needs them)
    std::vector<SshSource> ssh;         // --ssh
    // Brings an image the store lacks (FROM, COPY --from=IMAGE) in from its
    // registry for the build's platform and returns it; unset: such an image
    // is an error that says how to bring it in.
    ImagePuller pull;
    // --pull: every FROM name is resolved against its registry again (a
    // newer image is pulled), so a rebuild is never answered from the summary.
    bool always_pull = false;
    // --cache-from: entries consulted when the store's own index misses;
    // their blobs are fetched only when a later step or the image needs them.
    std::shared_ptr<cache::ImportedCache> cache_from;
    // --cache-to: which entries BuildResult::cache_export collects (min: the
    // steps of the target stage and the stages it is built FROM; max: every
    // step of every stage). A build that exports is never answered from the
    // summary.
    enum class CacheExportMode { kNone, kMin, kMax } cache_export = CacheExportMode::kNone;
};

struct StepReport {
    size_t stage = 0;  // Dockerfile index of the stage
    size_t step = 0;   // index into the stage's steps
    std::string name;  // as progress shows it (empty for metadata steps)
    std::string instruction;
    std::string key;
    enum class Outcome { kCached, kBuilt, kMetadata } outcome = Outcome::kMetadata;
    double seconds = 0;
    std::vector<std::string> explanation;  // --explain: why it was built
};

struct BuildResult {
    store::ImageRecord image;
    std::vector<store::Reference> names;
    std::vector<StepReport> steps;  // stages in build order, steps in order
    std::vector<frontend::Diagnostic> warnings;
    // The epoch in use (--source-date-epoch, the build arg or an ARG default).
    std::optional<int64_t> source_date_epoch;
    double seconds = 0;
    // Confirmed from the summary of the last build of the same Dockerfile
    // and context (cache/build_summary.hpp) without looking at any step.
    bool from_summary = false;
    // Every image reference the build resolved (FROM, COPY --from) and the
    // manifest digest it named, in order (--metadata-file's strata.base-images).
    std::vector<std::pair<std::string, std::string>> base_images;
    // The entries and memos --cache-to exports (BuildRequest::cache_export),
    // layers as the store (or the imported cache) has them.
    cache::CacheExport cache_export;
};

BuildResult build(const BuildRequest& request, store::ImageStore& store, ProgressSink& progress,
                  RunExecutor* run = nullptr);

}  // namespace strata::executor
