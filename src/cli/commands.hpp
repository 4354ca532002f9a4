// Subcommand registration. Each add_* function adds its subcommands to the app
// and wires them to the layers below; main.cpp only calls these.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "cli/registry_options.hpp"

namespace strata::cli {

// Options every subcommand sees.
struct GlobalOptions {
    std::string root;          // --root; empty means STRATA_ROOT or the default location
    RegistryOptions registry;  // --insecure-registry (registry_options.hpp)
};

// Thrown by a subcommand that has already reported its failure to the user
// and only needs the process to exit with `code`.
struct ExitCode {
    int code;
};

// Adds the commands: only the group that defines `command` (command_of's
// answer), or every group for help, no command or a name no group lists —
// making all of them costs ~0.8 ms, a fifth of a no-op build.
// command_groups.cpp.
void add_commands(CLI::App& app, const GlobalOptions& global, const std::string& command);

void add_parse_command(CLI::App& app);
void add_image_commands(CLI::App& app, const GlobalOptions& global);
void add_build_command(CLI::App& app, const GlobalOptions& global);       // build_command.cpp
void add_diff_command(CLI::App& app, const GlobalOptions& global);        // diff_command.cpp
void add_login_commands(CLI::App& app, const GlobalOptions& global);      // login_command.cpp
void add_pull_push_commands(CLI::App& app, const GlobalOptions& global);  // pull_push_commands.cpp
void add_volume_commands(CLI::App& app, const GlobalOptions& global);     // volume_commands.cpp
// `image ...`, `builder prune`, `system prune`: docker_groups.cpp
void add_docker_groups(CLI::App& app, const GlobalOptions& global);
// commit, export, cp (and `diff CTR`): container_commands_fs.cpp
void add_container_fs_commands(CLI::App& app, const GlobalOptions& global);
// run, create, start, exec: run_command.cpp
void add_run_commands(CLI::App& app, const GlobalOptions& global);
// ps, rm, container prune/ls/rm/inspect: container_commands_list.cpp
void add_container_list_commands(CLI::App& app, const GlobalOptions& global);
// The `strata container` group, made by whichever add_* function asks first:
// add `container SUB` commands to it rather than a second "container".
CLI::App& container_command_group(CLI::App& app);
// logs, stop, kill, wait, restart and the detached monitor: container_commands_lifecycle.cpp
void add_container_lifecycle_commands(CLI::App& app, const GlobalOptions& global);

}  // namespace strata::cli
