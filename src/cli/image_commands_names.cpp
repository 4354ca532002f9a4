// `strata tag SOURCE TARGET` and `strata rmi [-f] IMAGE...`
#include <fmt/format.h>

#include "base/error.hpp"
#include "cli/image_commands.hpp"
#include "cli/image_commands_common.hpp"
#include "store/image_store_remove.hpp"

namespace strata::cli {
namespace {

struct TagOptions {
    std::string source;
    std::string target;
};

void run_tag(const GlobalOptions& global, const TagOptions& opts) {
    auto target = store::Reference::parse(opts.target);
    if (target.digest)
        throw Error(
            ErrorKind::kUsage,
            fmt::format("refusing to create a tag with a digest reference: {}", opts.target));
    auto store = open_store(global);
    auto txn = store->begin();
    auto images = txn.images();
    auto match = store->lookup(opts.source, txn.names(), images);
    txn.tag(target.with_default_tag(), match.image.manifest);
    txn.commit();
}

struct RmiOptions {
    std::vector<std::string> images;
    bool force = false;
};

void run_rmi(const GlobalOptions& global, const RmiOptions& opts) {
    auto store = open_store(global);
    auto participants = make_gc_participants(*store);
    store::RemoveOptions ropts;
    ropts.force = opts.force;
    ropts.participants = raw_pointers(participants);
    ropts.users = container_users(*store);
    auto outcome = store::remove_images(*store, opts.images, ropts);
    for (const auto& line : outcome.lines)
        fmt::print("{}\n", line);
    std::fflush(stdout);
    for (const auto& e : outcome.errors)
        print_error(e);
    if (!outcome.errors.empty()) throw ExitCode{1};
}

}  // namespace

void add_tag_command(CLI::App& app, const GlobalOptions& global) {
    auto opts = std::make_shared<TagOptions>();
    CLI::App* cmd =
        app.add_subcommand("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE");
    cmd->add_option("source", opts->source, "SOURCE_IMAGE[:TAG] or image ID")->required();
    cmd->add_option("target", opts->target, "TARGET_IMAGE[:TAG]")->required();
    cmd->callback([opts, &global] { run_tag(global, *opts); });
}

void add_rmi_command(CLI::App& app, const GlobalOptions& global) {
    auto opts = std::make_shared<RmiOptions>();
    CLI::App* cmd = app.add_subcommand("rmi", "Remove one or more images");
    cmd->add_flag("-f,--force", opts->force,
                  "Remove an image referenced in several repositories by its ID");
    cmd->add_option("images", opts->images, "IMAGE (name or ID)")->required();
    cmd->callback([opts, &global] { run_rmi(global, *opts); });
}

}  // namespace strata::cli
