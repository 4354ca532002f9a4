// `strata prune [--dangling] [--build-cache]`, Docker's `image prune` and
// `builder prune`, and `strata store check [--fast]`
#include <fmt/format.h>

#include "base/error.hpp"
#include "cli/image_commands.hpp"
#include "cli/image_commands_common.hpp"
#include "store/prune.hpp"
#include "store/store_check.hpp"

namespace strata::cli {

store::PruneReport prune_store_contents(const GlobalOptions& global,
                                        const StorePruneOptions& opts) {
    auto store = open_store(global);
    auto participants = make_gc_participants(*store, opts.build_cache);
    store::PruneOptions popts;
    popts.dangling_images = opts.dangling;
    popts.unused_images = opts.unused;
    popts.participants = raw_pointers(participants);
    if (opts.dangling || opts.unused) popts.users = container_users(*store);
    return store::prune_store(*store, popts);
}

void print_deleted_images(const store::PruneReport& report) {
    if (report.images.empty()) return;
    fmt::print("Deleted Images:\n");
    for (const auto& n : report.untagged)
        fmt::print("untagged: {}\n", n.familiar());
    for (const auto& img : report.images)
        fmt::print("deleted: {}\n", img.config.str());
    fmt::print("\n");
}

namespace {

void run_prune(const GlobalOptions& global, const StorePruneOptions& opts) {
    const auto report = prune_store_contents(global, opts);
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

struct DockerPruneOptions {
    bool all = false;
    bool force = false;
};

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
    auto opts = std::make_shared<StorePruneOptions>();
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

void add_image_prune(CLI::App* cmd, const GlobalOptions& global) {
    auto opts = std::make_shared<DockerPruneOptions>();
    cmd->add_flag("-a,--all", opts->all, "Remove all unused images, not just dangling ones");
    cmd->add_flag("-f,--force", opts->force, "Do not prompt for confirmation");
    cmd->callback([opts, &global] {
        const std::string warning =
            opts->all ? "WARNING! This will remove all images without at least one container "
                        "associated to them."
                      : "WARNING! This will remove all dangling images.";
        if (!opts->force && !confirm(warning)) return;
        StorePruneOptions p;
        (opts->all ? p.unused : p.dangling) = true;
        const auto report = prune_store_contents(global, p);
        print_deleted_images(report);
        fmt::print("Total reclaimed space: {}\n", human_size(report.freed));
    });
}

void add_builder_prune(CLI::App* cmd, const GlobalOptions& global) {
    auto opts = std::make_shared<DockerPruneOptions>();
    cmd->add_flag("-a,--all", opts->all,
                  "Accepted for Docker's CLI: every build cache entry and cache mount goes");
    cmd->add_flag("-f,--force", opts->force, "Do not prompt for confirmation");
    cmd->callback([opts, &global] {
        if (!opts->force && !confirm("WARNING! This will remove all dangling build cache.")) return;
        StorePruneOptions p;
        p.build_cache = true;
        const auto report = prune_store_contents(global, p);
        for (const auto& [what, size] : report.other)
            fmt::print("Deleted: {} ({})\n", what, human_size(size));
        fmt::print("Total reclaimed space: {}\n", human_size(report.freed));
    });
}

}  // namespace strata::cli
