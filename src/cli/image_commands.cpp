#include "cli/image_commands.hpp"

namespace strata::cli {

void add_image_commands(CLI::App& app, const GlobalOptions& global) {
    add_images_command(app, global);
    add_tag_command(app, global);
    add_rmi_command(app, global);
    add_inspect_command(app, global);
    add_history_command(app, global);
    add_save_command(app, global);
    add_load_command(app, global);
    add_import_command(app, global);
    add_prune_command(app, global);
    add_store_command(app, global);
}

}  // namespace strata::cli
