// Only the command group of the command being run is made (command_groups.cpp):
// every command `strata --help` lists must still parse on its own, with its
// own help, and a name no group lists must still get every command.
#include <gtest/gtest.h>

#include <sstream>

#include "store/image_fixture.hpp"

namespace strata::imagetest {
namespace {

std::vector<std::string> listed_commands() {
    const RunResult r = run({STRATA_BINARY, "--help"});
    std::vector<std::string> out;
    std::istringstream in(r.out.substr(r.out.find("Subcommands:")));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        // "  NAME   description": a command; deeper indents continue a description.
        if (line.size() < 3 || line[0] != ' ' || line[1] != ' ' || line[2] == ' ') continue;
        out.push_back(line.substr(2, line.find(' ', 2) - 2));
    }
    return out;
}

TEST(CommandGroups, EveryCommandRunsAlone) {
    const auto commands = listed_commands();
    ASSERT_GE(commands.size(), 30u);
    for (const auto& c : commands) {
        const RunResult r = run({STRATA_BINARY, c, "--help"});
        EXPECT_EQ(r.code, 0) << c << ": " << r.err;
        EXPECT_NE(r.out.find("Usage: strata " + c + " "), std::string::npos) << c << ": " << r.out;
    }
    // `container` gets its subcommands from four groups.
    const RunResult r = run({STRATA_BINARY, "container", "--help"});
    for (const char* sub : {"commit", "run", "ls", "logs"})
        EXPECT_NE(r.out.find("\n  " + std::string(sub)), std::string::npos) << sub << r.out;
}

TEST(CommandGroups, AnUnknownNameIsRefusedAsDockerRefusesIt) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {STRATA_BINARY, "no-such-command"},
             {STRATA_BINARY, "--root", "/nonexistent", "no-such-command", "--help"}}) {
        const RunResult r = run(args);
        EXPECT_EQ(r.code, 1);
        EXPECT_EQ(r.err,
                  "strata: 'no-such-command' is not a strata command.\nSee 'strata --help'\n");
    }
    // A group without one of its commands: its usage on stderr, status 1,
    // as docker prints `docker image` (it was CLI11's "A subcommand is
    // required", status 106).
    for (const auto& args :
         std::vector<std::vector<std::string>>{{STRATA_BINARY, "image", "frobnicate"},
                                               {STRATA_BINARY, "volume"},
                                               {STRATA_BINARY, "container", "frobnicate"}}) {
        const RunResult r = run(args);
        EXPECT_EQ(r.code, 1) << args[1];
        EXPECT_NE(r.err.find("Subcommands:\n"), std::string::npos) << r.err;
    }
    const RunResult v = run({STRATA_BINARY, "--version"});
    EXPECT_EQ(v.code, 0);
    EXPECT_EQ(v.out, "strata 0.1.0\n");
}

}  // namespace
}  // namespace strata::imagetest
