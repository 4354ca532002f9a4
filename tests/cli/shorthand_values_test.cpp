// expand_shorthand_values: pflag's `-X=VALUE` turned into what CLI11 reads,
// on a command tree shaped like strata's, row by row.
#include "cli/shorthand_values.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace strata::cli {
namespace {

struct Tree {
    CLI::App app{"t", "strata"};
    std::string root, tag, env, format, image;
    bool quiet = false, human = true, detach = false, all = false;
    Tree() {
        app.add_option("--root", root);
        CLI::App* images = app.add_subcommand("images");
        images->add_flag("-q,--quiet", quiet);
        images->add_option("--format", format);
        CLI::App* history = app.add_subcommand("history");
        history->add_flag("-H,--human", human);
        history->add_option("image", image);
        CLI::App* build = app.add_subcommand("build");
        build->add_option("-t,--tag", tag);
        CLI::App* run = app.add_subcommand("run");
        run->add_option("-e,--env", env);
        run->add_flag("-d,--detach", detach);
        run->prefix_command();
        CLI::App* container = app.add_subcommand("container");
        CLI::App* ls = container->add_subcommand("ls");
        ls->add_flag("-a,--all", all);
    }
};

using Args = std::vector<std::string>;

TEST(ShorthandValues, RewritesWhatPflagReadsAndNothingElse) {
    const struct {
        Args in, out;
    } rows[] = {
        {{"images", "-q=true"}, {"images", "--quiet=true"}},
        {{"history", "-H=false", "img"}, {"history", "--human=false", "img"}},
        {{"build", "-t=app:1", "."}, {"build", "-t", "app:1", "."}},
        {{"build", "-t", "-q=x", "."}, {"build", "-t", "-q=x", "."}},  // a value, kept
        {{"build", "--tag", "-t=x"}, {"build", "--tag", "-t=x"}},
        {{"build", "-t=", "."}, {"build", "-t", "", "."}},
        {{"--root", "/r", "images", "-q=1"}, {"--root", "/r", "images", "--quiet=1"}},
        {{"run", "-e=A=1", "-d=true", "img", "sh", "-e=x"},
         {"run", "-e", "A=1", "--detach=true", "img", "sh", "-e=x"}},
        {{"run", "-e", "-d=1", "img"}, {"run", "-e", "-d=1", "img"}},
        {{"container", "ls", "-a=false"}, {"container", "ls", "--all=false"}},
        {{"images", "-x=1"}, {"images", "-x=1"}},  // unknown: CLI11 says so
        {{"images", "--", "-q=1"}, {"images", "--", "-q=1"}},
        {{"images", "-qfoo"}, {"images", "-qfoo"}},
        {{}, {}},
    };
    for (const auto& row : rows) {
        Tree t;
        std::string in;
        for (const auto& a : row.in)
            in += a + " ";
        EXPECT_EQ(expand_shorthand_values(t.app, row.in), row.out) << in;
    }
}

TEST(ShorthandValues, CLI11ParsesTheResultAsDockerMeansIt) {
    Tree t;
    Args args = expand_shorthand_values(t.app, {"run", "-e=A=1", "-d=false", "img", "-e=x"});
    std::reverse(args.begin(), args.end());
    t.app.parse(std::move(args));
    EXPECT_EQ(t.env, "A=1");
    EXPECT_FALSE(t.detach);
    Tree u;
    args = expand_shorthand_values(u.app, {"history", "-H=false", "img"});
    std::reverse(args.begin(), args.end());
    u.app.parse(std::move(args));
    EXPECT_FALSE(u.human);
    EXPECT_EQ(u.image, "img");
}

}  // namespace
}  // namespace strata::cli
