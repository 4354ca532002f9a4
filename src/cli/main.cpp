#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstdio>
#include <exception>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/rootless.hpp"
#include "cli/shorthand_values.hpp"

int main(int argc, char** argv) {
    // As a user other than root, a command that uses the store runs again in
    // a user namespace of its own (rootless.hpp): before anything else.
    try {
        if (const auto code = strata::cli::run_rootless_if_needed(argc, argv)) return *code;
    } catch (const strata::Error& e) {
        fmt::print(stderr, "strata: error: {}\n", e.what());
        return 1;
    }
    // strata only uses OpenSSL's digests: skip reading openssl.cnf at start.
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
    CLI::App app{"strata: a daemonless Dockerfile build engine", "strata"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "strata 0.1.0");
    strata::cli::GlobalOptions global;
    app.add_option("--root", global.root,
                   "Store directory (default: $STRATA_ROOT, else /var/lib/strata as root, "
                   "else $XDG_DATA_HOME/strata)");
    strata::cli::add_registry_options(app, global.registry);

    strata::cli::add_commands(app, global, strata::cli::command_of(argc, argv));

    try {
        std::vector<std::string> args = strata::cli::expand_shorthand_values(
            app, std::vector<std::string>(argv + 1, argv + argc));
        std::reverse(args.begin(), args.end());  // CLI11 takes the last first
        app.parse(std::move(args));
    } catch (const CLI::ParseError& e) {
        const std::string cmd = strata::cli::command_of(argc, argv);
        if (!cmd.empty() &&
            app.get_subcommands([&](const CLI::App* sub) { return sub->check_name(cmd); })
                .empty()) {  // Docker's words for a name that is no command
            fmt::print(stderr, "strata: '{}' is not a strata command.\nSee 'strata --help'\n", cmd);
            return 1;
        }
        // A group (image, container, volume, ...) without one of its
        // commands: its usage on stderr and status 1, as docker prints it.
        if (!cmd.empty() && (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr ||
                             dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr)) {
            for (CLI::App* group :
                 app.get_subcommands([&](const CLI::App* sub) { return sub->check_name(cmd); }))
                if (!group->get_subcommands({}).empty() && group->get_subcommands().empty()) {
                    fmt::print(stderr, "{}", group->help());
                    return 1;
                }
        }
        const int code = app.exit(e);
        // docker run/create/exec/start say 125 for their own errors, bad flags
        // included: the container's exit code is theirs to return.
        const bool container_cmd = cmd == "run" || cmd == "create" || cmd == "exec" ||
                                   cmd == "start" || cmd == "container";
        return code != 0 && container_cmd ? 125 : code;
    } catch (const strata::cli::ExitCode& e) {
        return e.code;
    } catch (const strata::Error& e) {
        fmt::print(stderr, "strata: error: {}\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        fmt::print(stderr, "strata: internal error: {}\n", e.what());
        return 70;
    }
    return 0;
}
