// `strata prune [--dangling] [--build-cache]`, Docker's `image prune` and
// `builder prune` (with its --filter until= and --keep-storage), and
// `strata store check [--fast]`
#include <fmt/format.h>

#include "base/error.hpp"
#include "base/go/strconv.hpp"
#include "base/go/time.hpp"
#include "base/go/units.hpp"
#include "cli/image_commands.hpp"
#include "cli/image_commands_common.hpp"
#include "store/image_config_time.hpp"
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
    if (opts.image_filters) {
        const std::optional<store::Timestamp> until = opts.image_filters->prune_until();
        popts.image_filter = [&, until](const store::ImageRecord& img) {
            const store::ImageConfig config = store->config(img);
            if (until && config.created) {  // none: the zero time, before any
                const auto created = store::parse_timestamp(*config.created);
                if (created && *until < *created) return false;
            }
            return opts.image_filters->prune_labels_match(config.config.labels);
        };
    }
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

void print_deleted_build_cache(const store::PruneReport& report) {
    if (report.other.empty()) return;
    fmt::print("Deleted build cache objects:\n");
    for (const auto& [what, size] : report.other)
        fmt::print("{}\n", what);
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
    std::vector<std::string> filters;  // builder prune --filter
    std::string keep_storage;          // builder prune --keep-storage
};

// `builder prune`'s flags as Docker's daemon reads them (moby's
// builder-next): `until` (or its old name `unused-for`) is a Go duration;
// the size is go-units' RAMInBytes.
cache::CachePrunePolicy builder_prune_policy(const DockerPruneOptions& o) {
    cache::CachePrunePolicy policy;
    policy.all = o.all;
    policy.now = store::now_timestamp().seconds;
    std::optional<std::string> until;
    std::string until_key;
    for (const std::string& f : o.filters) {
        const size_t eq = f.find('=');
        const std::string key = f.substr(0, eq);
        if (eq == std::string::npos || (key != "until" && key != "unused-for"))
            throw Error(ErrorKind::kUsage,
                        fmt::format("invalid filter '{}': strata's builder prune takes until= "
                                    "(or unused-for=) only",
                                    f));
        if (until && until_key != key)
            throw Error(ErrorKind::kUsage, "conflicting filters: 'until' and 'unused-for'");
        if (until) throw Error(ErrorKind::kUsage, "filters expect only one value");
        until = f.substr(eq + 1);
        until_key = key;
    }
    if (until) {
        const std::optional<int64_t> ns = go::time::parse_duration(*until);
        if (!ns || *ns < 0)
            throw Error(ErrorKind::kUsage,
                        fmt::format("\"{}\" filter expects a duration (e.g., '24h'): time: "
                                    "invalid duration \"{}\"",
                                    until_key, *until));
        policy.keep_duration_s = *ns / 1'000'000'000;
    }
    if (!o.keep_storage.empty()) {
        std::string error;
        const std::optional<uint64_t> bytes = go::units::ram_in_bytes(o.keep_storage, &error);
        if (!bytes)
            throw Error(ErrorKind::kUsage,
                        fmt::format("invalid argument \"{}\" for \"--keep-storage\" flag: {}",
                                    o.keep_storage, error));
        policy.keep_bytes = *bytes;
    }
    return policy;
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
    auto opts = std::make_shared<StorePruneOptions>();
    CLI::App* cmd = app.add_subcommand(
        "prune", "Remove blobs, unpacked layers and leftovers that no image (or cache entry) uses");
    cmd->add_flag("--dangling", opts->dangling, "Also remove images that have no name");
    auto drop_cache = std::make_shared<bool>(false);
    cmd->add_flag("--build-cache", *drop_cache,
                  "Also remove every build cache entry (the next build runs every step)");
    cmd->callback([opts, drop_cache, &global] {
        if (*drop_cache) opts->build_cache = cache::CachePrunePolicy{};  // all of it
        run_prune(global, *opts);
    });
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
    cmd->add_option("--filter", opts->filters,
                    "Provide filter values (until=24h, label=KEY[=VALUE], label!=KEY[=VALUE])");
    cmd->add_flag("-f,--force", opts->force, "Do not prompt for confirmation");
    cmd->callback([opts, &global] {
        StorePruneOptions p;
        p.image_filters =
            FilterArgs::parse(opts->filters, {"dangling", "label", "label!", "until"});
        p.image_filters->prune_until();  // a bad time is refused before the question
        // dangling=false is -a, as docker's CLI passes -a to the daemon.
        bool all = opts->all;
        for (const std::string& v : p.image_filters->values("dangling")) {
            const std::optional<bool> b = go::strconv::parse_bool(v);
            if (!b) throw Error(ErrorKind::kUsage, fmt::format("invalid filter 'dangling={}'", v));
            all = all || !*b;
        }
        const std::string warning =
            all ? "WARNING! This will remove all images without at least one container "
                  "associated to them."
                : "WARNING! This will remove all dangling images.";
        if (!opts->force && !confirm(warning)) return;
        (all ? p.unused : p.dangling) = true;
        const auto report = prune_store_contents(global, p);
        print_deleted_images(report);
        fmt::print("Total reclaimed space: {}\n", human_size(report.freed));
    });
}

void add_builder_prune(CLI::App* cmd, const GlobalOptions& global) {
    auto opts = std::make_shared<DockerPruneOptions>();
    cmd->add_flag("-a,--all", opts->all,
                  "Remove all unused build cache, not just dangling ones (also the steps whose "
                  "layers images share)");
    cmd->add_option("--filter", opts->filters,
                    "Provide filter values (until=24h: keep what builds used in the last 24 "
                    "hours)");
    cmd->add_option("--keep-storage", opts->keep_storage,
                    "Amount of disk space to keep for cache (10GB): the least recently used "
                    "goes first");
    cmd->add_flag("-f,--force", opts->force, "Do not prompt for confirmation");
    cmd->callback([opts, &global] {
        StorePruneOptions p;
        p.build_cache = builder_prune_policy(*opts);  // refusals before the question
        if (!opts->force &&
            !confirm(opts->all ? "WARNING! This will remove all build cache."
                               : "WARNING! This will remove all dangling build cache."))
            return;
        const auto report = prune_store_contents(global, p);
        print_deleted_build_cache(report);
        fmt::print("Total reclaimed space: {}\n", human_size(report.freed));
    });
}

}  // namespace strata::cli
