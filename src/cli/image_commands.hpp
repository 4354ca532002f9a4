// The image commands, one registration function per file; add_image_commands
// (commands.hpp) calls them all.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

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

}  // namespace strata::cli
