// The prune commands' --filter as Docker's daemon reads it (moby's
// daemon/prune.go): label=, label!= and until= for images and containers,
// labels for volumes, dangling=false as -a, one set of filters for system
// prune (until= refused with --volumes); bad filters refused before the
// question. `run --label` puts the labels a container filter reads.
#include <gtest/gtest.h>

#include "cli/image_cli_fixture.hpp"

namespace strata::imagetest {
namespace {

class PruneFiltersCli : public CliTest {
  protected:
    // A dangling image with the label team=TEAM; its ID.
    std::string dangling(const std::string& team) {
        return lines(
            run_ok({"build", "-q", "-"}, "FROM busybox\nLABEL team=" + team + "\n").out)[0];
    }
    std::string image_ids() { return run_ok({"images", "-q", "--no-trunc", "-a"}).out; }
    bool has(const std::string& text, const std::string& needle) {
        return text.find(needle) != std::string::npos;
    }
};

TEST_F(PruneFiltersCli, ImagesByLabelAndTime) {
    const std::string a = dangling("a"), b = dangling("b");
    auto r = run_ok({"image", "prune", "-f", "--filter", "label=team=a"});
    EXPECT_TRUE(has(r.out, "deleted: " + a)) << r.out;
    EXPECT_FALSE(has(r.out, b)) << r.out;
    r = run_ok({"image", "prune", "-f", "--filter", "label!=team=b"});
    EXPECT_FALSE(has(r.out, "Deleted Images")) << "b carries team=b: kept\n" << r.out;
    r = run_ok({"image", "prune", "-f", "--filter", "until=1h"});
    EXPECT_FALSE(has(r.out, "Deleted Images")) << "made just now: kept\n" << r.out;
    r = run_ok({"image", "prune", "-f", "--filter", "until=2100-01-01T00:00:00Z"});
    EXPECT_TRUE(has(r.out, "deleted: " + b)) << r.out;
    EXPECT_TRUE(has(image_ids(), id_)) << "named: not dangling";
    r = run_ok({"image", "prune", "-f", "--filter", "dangling=false", "--filter",
                "until=2100-01-01T00:00:00Z"});
    EXPECT_TRUE(has(r.out, "deleted: " + id_)) << "dangling=false is -a\n" << r.out;
}

TEST_F(PruneFiltersCli, ContainersAndVolumesByLabel) {
    const std::string keep = lines(run_ok({"create", "--network", "none", "-l", "keep", "--label",
                                           "tier=db", "busybox", "true"})
                                       .out)[0];
    const std::string drop =
        lines(run_ok({"create", "--network", "none", "busybox", "true"}).out)[0];
    const auto labels =
        nlohmann::json::parse(run_ok({"container", "inspect", keep}).out)[0]["Config"]["Labels"];
    EXPECT_EQ(labels["keep"], "");
    EXPECT_EQ(labels["tier"], "db");
    auto r = run_ok({"container", "prune", "-f", "--filter", "label!=keep"});
    EXPECT_EQ(r.out.rfind("Deleted Containers:\n" + drop + "\n\n", 0), 0u) << r.out;
    r = run_ok({"container", "prune", "-f", "--filter", "until=1h"});
    EXPECT_FALSE(has(r.out, keep)) << r.out;
    r = run_ok({"container", "prune", "-f", "--filter", "label=tier=db"});
    EXPECT_TRUE(has(r.out, keep)) << r.out;

    run_ok({"volume", "create", "--label", "team=web", "web"});
    run_ok({"volume", "create", "other"});
    r = run_ok({"volume", "prune", "-f", "--filter", "all=true", "--filter", "label=team"});
    EXPECT_EQ(r.out.rfind("Deleted Volumes:\nweb\n\n", 0), 0u) << r.out;
    EXPECT_EQ(run_ok({"volume", "ls", "-q"}).out, "other\n");
}

TEST_F(PruneFiltersCli, SystemPruneAndRefusals) {
    const std::string a = dangling("a");
    auto r = run_ok({"system", "prune", "-f", "--filter", "label=team=b"});
    EXPECT_FALSE(has(r.out, a)) << r.out;
    r = run_ok({"system", "prune", "-f", "--filter", "label=team=a"});
    EXPECT_TRUE(has(r.out, "deleted: " + a)) << r.out;

    const std::pair<std::vector<std::string>, std::string> rows[] = {
        {{"image", "prune", "--filter", "colour=red"}, "invalid filter 'colour'"},
        {{"image", "prune", "--filter", "until=soon"},
         "failed to parse value as time or duration: \"soon\""},
        {{"image", "prune", "--filter", "dangling=maybe"}, "invalid filter 'dangling=maybe'"},
        {{"container", "prune", "--filter", "until=1h", "--filter", "until=2h"},
         "more than one until filter specified"},
        {{"volume", "prune", "--filter", "until=1h"}, "invalid filter 'until'"},
        {{"system", "prune", "--volumes", "--filter", "until=1h"},
         "The \"until\" filter is not supported with \"--volumes\""},
        {{"create", "--label", "=x", "busybox"}, "invalid label '=x'"},
    };
    for (const auto& [args, message] : rows) {
        r = strata(root_, args);
        EXPECT_NE(r.code, 0) << message;
        EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
        EXPECT_FALSE(has(r.out, "WARNING")) << "refused before the question";
    }
}

}  // namespace
}  // namespace strata::imagetest
