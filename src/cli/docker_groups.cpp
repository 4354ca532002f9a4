// Docker's management-command names for what strata has at the top level:
// `image ls|rm|tag|inspect|history|save|load|import|pull|push|build|prune`,
// `builder prune`, `system prune` and `system df`, as scripts written for `docker` use
// them (`docker image prune -af`, `docker builder prune -f`). Each is the
// top-level command's own registration under its Docker name: one home for
// its flags and behaviour.
#include <fmt/format.h>

#include <algorithm>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/container_commands.hpp"
#include "cli/human_size.hpp"
#include "cli/image_commands.hpp"
#include "cli/image_commands_common.hpp"
#include "cli/system_df.hpp"
#include "containers/volume_store.hpp"
#include "store/store_root.hpp"

namespace strata::cli {
namespace {

// Registers a top-level command into `group` through its own add function,
// then gives it Docker's name there, and `aliases` as its other names.
void add_as(CLI::App& group, void (*add)(CLI::App&, const GlobalOptions&),
            const GlobalOptions& global, const char* ours, const char* docker,
            std::initializer_list<const char*> aliases = {}) {
    add(group, global);
    CLI::App* cmd = group.get_subcommand(ours);
    cmd->name(docker);
    for (const char* a : aliases)
        cmd->alias(a);
}

struct SystemPruneOptions {
    bool all = false, force = false, volumes = false;
    std::vector<std::string> filters;
};

void run_system_prune(const GlobalOptions& global, const SystemPruneOptions& o) {
    // One set of filters for every kind, as docker's CLI passes them on:
    // containers and images take until=, label= and label!=; volumes the
    // labels; the build cache until= (as a keep duration). A label filter
    // matches no build cache record (BuildKit's records have no labels).
    const FilterArgs filters = FilterArgs::parse(o.filters, {"label", "label!", "until"});
    const std::optional<store::Timestamp> until = filters.prune_until();
    if (o.volumes && until)
        throw Error(ErrorKind::kUsage,
                    "ERROR: The \"until\" filter is not supported with \"--volumes\"");
    std::string warning = "WARNING! This will remove:\n  - all stopped containers\n";
    if (o.volumes) warning += "  - all anonymous volumes not used by at least one container\n";
    warning += o.all ? "  - all images without at least one container associated to them\n"
                     : "  - all dangling images\n";
    warning += o.all ? "  - all build cache\n" : "  - all dangling build cache\n";
    if (!o.force && !confirm(warning)) return;
    const ContainerPruneResult containers = prune_stopped_containers(global, filters);
    print_deleted_containers(containers);
    uint64_t reclaimed = containers.reclaimed;
    if (o.volumes) {
        containers::VolumeStore volumes(store::resolve_store_root(global.root));
        const auto report = volumes.prune(/*all=*/false, [&](const containers::Volume& v) {
            return filters.prune_labels_match(v.labels);
        });
        print_deleted_volumes(report);
        reclaimed += report.reclaimed;
    }
    StorePruneOptions p;
    (o.all ? p.unused : p.dangling) = true;
    p.image_filters = filters;
    if (!filters.has("label") && !filters.has("label!")) {
        p.build_cache = cache::CachePrunePolicy{};
        p.build_cache->all = o.all;  // as Docker: dangling build cache only, unless -a
        if (until) {
            p.build_cache->now = store::now_timestamp().seconds;
            p.build_cache->keep_duration_s =
                std::max<int64_t>(1, p.build_cache->now - until->seconds);
        }
    }
    const store::PruneReport report = prune_store_contents(global, p);
    print_deleted_images(report);
    print_deleted_build_cache(report);
    fmt::print("Total reclaimed space: {}\n", human_size(reclaimed + report.freed));
}

}  // namespace

void add_docker_groups(CLI::App& app, const GlobalOptions& global) {
    CLI::App* image = app.add_subcommand("image", "Manage images (Docker's names)");
    image->require_subcommand(1);
    add_as(*image, add_images_command, global, "images", "ls", {"list"});
    add_as(*image, add_rmi_command, global, "rmi", "rm", {"remove", "rmi"});
    add_as(*image, add_tag_command, global, "tag", "tag");
    add_as(*image, add_inspect_command, global, "inspect", "inspect");
    image->get_subcommand("inspect")
        ->description("Display detailed information on one or more images")
        ->get_option("--type")
        ->default_val("image");
    add_as(*image, add_history_command, global, "history", "history");
    add_as(*image, add_save_command, global, "save", "save");
    add_as(*image, add_load_command, global, "load", "load");
    add_as(*image, add_import_command, global, "import", "import");
    add_pull_push_commands(*image, global);
    add_build_command(*image, global);
    add_image_prune(image->add_subcommand("prune", "Remove unused images"), global);

    CLI::App* builder = app.add_subcommand("builder", "Manage builds (Docker's names)");
    builder->require_subcommand(1);
    add_build_command(*builder, global);
    add_builder_prune(builder->add_subcommand("prune", "Remove build cache"), global);

    CLI::App* system = app.add_subcommand("system", "Manage strata (Docker's names)");
    system->require_subcommand(1);
    auto o = std::make_shared<SystemPruneOptions>();
    CLI::App* prune = system->add_subcommand("prune", "Remove unused data");
    prune->add_flag("-a,--all", o->all, "Remove all unused images, not just dangling ones");
    prune->add_flag("-f,--force", o->force, "Do not prompt for confirmation");
    prune->add_flag("--volumes", o->volumes, "Prune anonymous volumes");
    prune->add_option("--filter", o->filters,
                      "Provide filter values (until=24h, label=KEY[=VALUE], label!=KEY[=VALUE])");
    prune->callback([o, &global] { run_system_prune(global, *o); });
    system->add_subcommand("df", "Show disk usage")->callback([&global] { run_system_df(global); });
}

}  // namespace strata::cli
