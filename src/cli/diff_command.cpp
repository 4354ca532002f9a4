// `strata diff [--format text|json] [--ignore WHAT]... A [B]`
//
// Two arguments: compares two images (store names or IDs, docker-archive:FILE,
// oci-archive:FILE, oci:DIR[:TAG]); exit 0 when identical, 1 when they
// differ, 2 on an error (as diff(1) and cmp(1)). One argument: a container's
// changes to its image, as `docker diff CTR` prints them
// (container_commands_fs.cpp); when no container has that name or ID, what
// each layer of the image adds, changes and deletes (the same A/C/D).
#include <fmt/format.h>

#include <future>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/container_commands_fs.hpp"
#include "cli/image_commands_common.hpp"
#include "diff/image_diff.hpp"

namespace strata::cli {
namespace {

struct DiffCommandOptions {
    std::vector<std::string> targets;
    std::string format = "text";
    std::vector<std::string> ignore;
};

void run_diff(const GlobalOptions& global, const DiffCommandOptions& opts) {
    if (opts.format != "text" && opts.format != "json")
        throw Error(ErrorKind::kUsage,
                    fmt::format("--format: expected text or json, got \"{}\"", opts.format));
    diff::DiffOptions options;
    for (const auto& i : opts.ignore)
        options.ignore |= diff::parse_ignore(i);
    // The store is opened (and created) only when an argument needs it.
    std::filesystem::path root;
    for (const auto& t : opts.targets)
        if (diff::parse_input(t).kind == diff::InputKind::kStoreImage && root.empty())
            root = open_store(global)->root();
    diff::LayerCache cache;

    if (opts.targets.size() == 1) {
        // A container first, as `docker diff CTR`; else an image's layers.
        if (print_container_diff(global, opts.targets[0], opts.format == "json")) return;
        auto img = diff::load_image(opts.targets[0], root, &cache);
        auto changes = diff::layer_changes(img, &cache);
        std::fputs((opts.format == "json" ? diff::render_changes_json(changes)
                                          : diff::render_changes_text(changes))
                       .c_str(),
                   stdout);
        return;
    }
    // Both sides load (and archives stream) at once, one thread each.
    auto fa = std::async(std::launch::async,
                         [&] { return diff::load_image(opts.targets[0], root, &cache); });
    auto b = diff::load_image(opts.targets[1], root, &cache);
    auto a = fa.get();
    auto report = diff::compare_images(a, b, options, &cache);
    std::string out =
        opts.format == "json" ? diff::render_json(report, a, b) : diff::render_text(report, a, b);
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
    if (!report.identical()) throw ExitCode{1};
}

}  // namespace

void add_diff_command(CLI::App& app, const GlobalOptions& global) {
    auto opts = std::make_shared<DiffCommandOptions>();
    CLI::App* cmd = app.add_subcommand(
        "diff",
        "Compare two images (exit 0: identical, 1: different, 2: error); with one argument, "
        "list a container's changes (A/C/D as docker diff), or what each layer of an image "
        "adds, changes and deletes");
    cmd->add_option("--format", opts->format, "Output format: text (default) or json");
    cmd->add_option("--ignore", opts->ignore,
                    "Leave out differences of a kind: timestamps, history, owners, modes, "
                    "xattrs, config, manifest, files, order (comma-separated or repeated)")
        ->allow_extra_args(false);
    cmd->add_option("targets", opts->targets,
                    "CONTAINER, or IMAGE [IMAGE]: name, ID, docker-archive:FILE, "
                    "oci-archive:FILE or oci:DIR[:TAG]")
        ->required()
        ->expected(1, 2);
    cmd->callback([opts, &global] {
        try {
            run_diff(global, *opts);
        } catch (const Error& e) {
            fmt::print(stderr, "strata: error: {}\n", e.what());
            throw ExitCode{2};
        }
    });
}

}  // namespace strata::cli
