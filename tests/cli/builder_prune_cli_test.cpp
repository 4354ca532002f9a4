// `builder prune` as Docker's, on real builds: without -a only the dangling
// build cache goes (a first stage's layers no image holds) and the final
// stage's steps stay cached; --filter until= keeps what builds just used;
// --keep-storage above the cache's size removes nothing; -a removes it all;
// bad flags are refused before anything is asked or removed.
#include <gtest/gtest.h>

#include "cli/image_cli_fixture.hpp"

namespace strata::imagetest {
namespace {

class BuilderPruneCli : public CliTest {
  protected:
    void SetUp() override {
        CliTest::SetUp();
        ctx_ = dir_.path() / "ctx";
        write_file(ctx_ / "Dockerfile",
                   "FROM busybox AS first\nRUN echo made > /made\n"
                   "FROM busybox\nCOPY --from=first /made /made\nRUN cat /made > /copy\n");
    }
    RunResult build() {
        return strata(root_, {"build", "--progress", "plain", "-t", "app", ctx_.string()});
    }
    fs::path ctx_;
};

TEST_F(BuilderPruneCli, DanglingUntilKeepStorageAndAll) {
    auto r = build();
    ASSERT_EQ(r.code, 0) << r.err;

    r = run_ok({"builder", "prune", "-f", "--filter", "until=1h"});
    EXPECT_EQ(r.out, "Total reclaimed space: 0B\n") << "just used: kept";
    r = run_ok({"builder", "prune", "-f", "--keep-storage", "1g"});
    EXPECT_EQ(r.out, "Total reclaimed space: 0B\n") << "smaller than 1 GiB: kept";

    r = run_ok({"builder", "prune", "-f"});
    EXPECT_NE(r.out.find("RUN echo made > /made"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("RUN cat /made"), std::string::npos)
        << "the image holds that step's layer: not dangling\n"
        << r.out;
    r = build();
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("(1 steps run, 2 cached)"), std::string::npos)
        << "the first stage's RUN again, the rest from the cache\n"
        << r.err;

    r = run_ok({"builder", "prune", "-a", "-f"});
    EXPECT_NE(r.out.find("RUN cat /made"), std::string::npos) << r.out;
    r = build();
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("(3 steps run, 0 cached)"), std::string::npos) << r.err;
}

TEST_F(BuilderPruneCli, BadFlagsAreRefusedFirst) {
    ASSERT_EQ(build().code, 0);
    const std::pair<std::vector<std::string>, std::string> rows[] = {
        {{"--filter", "until=1d"}, "\"until\" filter expects a duration (e.g., '24h')"},
        {{"--filter", "type=regular"}, "invalid filter 'type=regular'"},
        {{"--filter", "until=1h", "--filter", "unused-for=2h"},
         "conflicting filters: 'until' and 'unused-for'"},
        {{"--keep-storage", "lots"}, "invalid argument \"lots\" for \"--keep-storage\" flag"},
    };
    for (const auto& [flags, message] : rows) {
        std::vector<std::string> args{"builder", "prune"};
        args.insert(args.end(), flags.begin(), flags.end());
        auto r = strata(root_, args);
        EXPECT_NE(r.code, 0) << message;
        EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
        EXPECT_EQ(r.out, "") << "refused before the question";
    }
    auto r = build();
    EXPECT_NE(r.err.find("(0 steps run, 3 cached)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace strata::imagetest
