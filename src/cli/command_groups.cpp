// Which add_* function defines which top-level command. A name missing here
// costs only time (every group is made, as for help); a wrong one is caught by
// CommandGroups.EveryCommandRunsAlone (tests/cli/command_groups_cli_test.cpp).
#include <string>
#include <string_view>

#include "cli/commands.hpp"

namespace strata::cli {
namespace {

struct CommandGroup {
    std::string_view names;  // " a b c ": the top-level commands it adds
    void (*add)(CLI::App&, const GlobalOptions&);
};

// In the order `strata --help` lists them. `container` is made by whichever
// group asks first (container_command_group) and filled by four.
constexpr CommandGroup kGroups[] = {
    {" parse ", [](CLI::App& app, const GlobalOptions&) { add_parse_command(app); }},
    {" build ", add_build_command},
    {" images tag rmi inspect history save load import prune store ", add_image_commands},
    {" diff ", add_diff_command},
    {" login logout ", add_login_commands},
    {" pull push ", add_pull_push_commands},
    {" volume ", add_volume_commands},
    {" commit export cp container ", add_container_fs_commands},
    {" run create start exec container ", add_run_commands},
    {" ps rm container ", add_container_list_commands},
    {" logs stop restart kill wait container-monitor container ", add_container_lifecycle_commands},
    {" image builder system ", add_docker_groups},
};

bool lists(const CommandGroup& g, const std::string& command) {
    return !command.empty() && g.names.find(" " + command + " ") != std::string_view::npos;
}

}  // namespace

void add_commands(CLI::App& app, const GlobalOptions& global, const std::string& command) {
    bool known = false;
    for (const CommandGroup& g : kGroups)
        known = known || lists(g, command);
    for (const CommandGroup& g : kGroups)
        if (!known || lists(g, command)) g.add(app, global);
}

}  // namespace strata::cli
