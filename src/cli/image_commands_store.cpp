// `strata prune [--dangling]` and `strata store check [--fast]`
#include <fmt/format.h>

#include "base/error.hpp"
#include "cli/image_commands.hpp"
#include "cli/image_commands_common.hpp"
#include "store/prune.hpp"
#include "store/store_check.hpp"

namespace strata::cli {
namespace {

struct PruneCmdOptions {
    bool dangling = false;
    bool build_cache = false;
};

void run_prune(const GlobalOptions& global, const PruneCmdOptions& opts) {
    auto store = open_store(global);
    auto participants = make_gc_participants(*store, opts.build_cache);
    store::PruneOptions popts;
    popts.dangling_images = opts.dangling;
    popts.participants = raw_pointers(participants);
    if (opts.dangling) popts.users = container_users(*store);
    auto report = store::prune_store(*store, popts);
    for (const auto& img : report.images)
        fmt::print("Deleted image: {}\n", img.config.str());
    for (const auto& [d, size] : report.blobs)
        fmt::print("Deleted blob: {} ({})\n", d.str(), human_size(size));
    for (const auto& [d, size] : report.layers)
        fmt::print("Deleted layer: {} ({})\n", d.str(), human_size(size));
    for (const auto& [what, size] : report.other)
        fmt::print("Deleted: {} ({})\n", what, human_size(size));
    fmt::print("Total reclaimed space: {}\n", human_size(report.freed));
}

struct CheckCmdOptions {
    bool fast = false;
    bool quiet = false;
};

void run_check(const GlobalOptions& global, const CheckCmdOptions& opts) {
    auto store = open_store(global);
    store::CheckOptions copts;
    copts.verify_layer_contents = !opts.fast;
    auto report = store::check_store(*store, copts);
    for (const auto& p : report.problems)
        fmt::print("problem: {}\n", p);
    if (!opts.quiet)
        for (const auto& n : report.notes)
            fmt::print("note: {}\n", n);
    fmt::print("checked {} blob(s), {} image(s), {} name(s), {} unpacked layer(s): {}\n",
               report.blobs, report.images, report.names, report.layers,
               report.ok() ? "no problems" : fmt::format("{} problem(s)", report.problems.size()));
    if (!report.ok()) throw ExitCode{1};
}

}  // namespace

void add_prune_command(CLI::App& app, const GlobalOptions& global) {
    auto opts = std::make_shared<PruneCmdOptions>();
    CLI::App* cmd = app.add_subcommand(
        "prune", "Remove blobs, unpacked layers and leftovers that no image (or cache entry) uses");
    cmd->add_flag("--dangling", opts->dangling, "Also remove images that have no name");
    cmd->add_flag("--build-cache", opts->build_cache,
                  "Also remove every build cache entry (the next build runs every step)");
    cmd->callback([opts, &global] { run_prune(global, *opts); });
}

void add_store_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* store_cmd = app.add_subcommand("store", "Manage the image store");
    store_cmd->require_subcommand(1);
    auto opts = std::make_shared<CheckCmdOptions>();
    CLI::App* check = store_cmd->add_subcommand(
        "check", "Verify every digest and reference in the store; exit 1 on problems");
    check->add_flag("--fast", opts->fast, "Skip decompressing layers to check their diffIDs");
    check->add_flag("-q,--quiet", opts->quiet, "Print problems and the summary only");
    check->callback([opts, &global] { run_check(global, *opts); });
}

}  // namespace strata::cli
