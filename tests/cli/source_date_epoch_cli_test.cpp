// `strata build --build-arg SOURCE_DATE_EPOCH=…` through the real binary: the
// same image as --source-date-epoch, the flag wins over the build arg, the
// build arg over the environment, and a bad value fails in BuildKit's words.
#include <gtest/gtest.h>

#include "cli/image_cli_fixture.hpp"

namespace strata::imagetest {
namespace {

class SourceDateEpochCli : public CliTest {
  protected:
    void SetUp() override {
        CliTest::SetUp();
        ctx_ = dir_.path() / "ctx";
        write_file(ctx_ / "a.txt", "alpha\n");
        write_file(ctx_ / "Dockerfile", "FROM busybox\nCOPY a.txt /a.txt\nLABEL l=1\n");
    }
    RunResult build(std::vector<std::string> args,
                    const std::map<std::string, std::string>& env = {}) {
        args.insert(args.begin(), "build");
        args.push_back(ctx_.string());
        return strata(root_, std::move(args), "", env);
    }
    fs::path ctx_;
};

TEST_F(SourceDateEpochCli, BuildArgFlagAndEnvironment) {
    const auto flag = build({"-q", "--source-date-epoch", "1700000000"});
    ASSERT_EQ(flag.code, 0) << flag.err;
    const auto arg = build({"-q", "--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1700000000"});
    ASSERT_EQ(arg.code, 0) << arg.err;
    EXPECT_EQ(arg.out, flag.out) << "the build arg works like the flag";

    // The build arg wins over the environment; the flag over the build arg.
    const auto over_env = build({"-q", "--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1700000000"},
                                {{"SOURCE_DATE_EPOCH", "1600000000"}});
    ASSERT_EQ(over_env.code, 0) << over_env.err;
    EXPECT_EQ(over_env.out, flag.out);
    const auto over_arg = build({"-q", "--no-cache", "--source-date-epoch", "1700000000",
                                 "--build-arg", "SOURCE_DATE_EPOCH=1600000000"});
    ASSERT_EQ(over_arg.code, 0) << over_arg.err;
    EXPECT_EQ(over_arg.out, flag.out);
    const auto other = build({"-q", "--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1600000000"});
    ASSERT_EQ(other.code, 0) << other.err;
    EXPECT_NE(other.out, flag.out) << "another epoch, another image";
}

TEST_F(SourceDateEpochCli, BadValuesAreRejected) {
    for (const char* v : {"yesterday", "1.5", "-1"}) {
        const auto r = build({"--build-arg", std::string("SOURCE_DATE_EPOCH=") + v});
        EXPECT_EQ(r.code, 1) << v;
        EXPECT_NE(r.err.find(std::string("invalid SOURCE_DATE_EPOCH: ") + v), std::string::npos)
            << r.err;
    }
    const auto env = build({}, {{"SOURCE_DATE_EPOCH", "soon"}});
    EXPECT_EQ(env.code, 1);
    EXPECT_NE(env.err.find("invalid SOURCE_DATE_EPOCH: soon"), std::string::npos) << env.err;
}

}  // namespace
}  // namespace strata::imagetest
