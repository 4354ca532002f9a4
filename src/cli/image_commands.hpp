// The image commands, one registration function per file; add_image_commands
// (commands.hpp) calls them all.
#pragma once

#include <optional>

#include <CLI/CLI.hpp>

#include "cache/cache_prune.hpp"
#include "cli/commands.hpp"
#include "cli/filter_args.hpp"
#include "store/prune.hpp"

namespace strata::cli {

void add_images_command(CLI::App& app, const GlobalOptions& global);   // image_commands_list.cpp
void add_tag_command(CLI::App& app, const GlobalOptions& global);      // image_commands_names.cpp
void add_rmi_command(CLI::App& app, const GlobalOptions& global);      // image_commands_names.cpp
void add_inspect_command(CLI::App& app, const GlobalOptions& global);  // image_commands_inspect.cpp
void add_history_command(CLI::App& app, const GlobalOptions& global);  // image_commands_history.cpp
void add_save_command(CLI::App& app, const GlobalOptions& global);     // image_commands_archive.cpp
void add_load_command(CLI::App& app, const GlobalOptions& global);     // image_commands_archive.cpp
void add_import_command(CLI::App& app, const GlobalOptions& global);   // image_commands_archive.cpp
void add_prune_command(CLI::App& app, const GlobalOptions& global);    // image_commands_store.cpp
void add_store_command(CLI::App& app, const GlobalOptions& global);    // image_commands_store.cpp

// image_commands_store.cpp: what `prune` frees in the image store, for it and
// for Docker's `image prune`, `builder prune` and `system prune`.
struct StorePruneOptions {
    bool dangling = false;  // images without a name (and without a container)
    bool unused = false;    // every image without a container, names and all
    // The build cache `builder prune` would remove (cache/cache_prune.hpp);
    // none: only entries whose layers are gone.
    std::optional<cache::CachePrunePolicy> build_cache;
    // Which of the images go (`image prune --filter`): label=, label!=,
    // until= (created before it); none: all that `dangling`/`unused` name.
    std::optional<FilterArgs> image_filters;
};
store::PruneReport prune_store_contents(const GlobalOptions& global, const StorePruneOptions& opts);
// Docker's "Deleted Images:" block (nothing when none went).
void print_deleted_images(const store::PruneReport& report);
// Docker's "Deleted build cache objects:" block (nothing when none went).
void print_deleted_build_cache(const store::PruneReport& report);
// `image prune [-a] [-f] [--filter label=|label!=|until=|dangling=]`
void add_image_prune(CLI::App* cmd, const GlobalOptions& global);
// `builder prune [-a] [-f] [--filter until=D] [--keep-storage SIZE]`
void add_builder_prune(CLI::App* cmd, const GlobalOptions& global);

}  // namespace strata::cli
