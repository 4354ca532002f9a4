// `strata build --secret` / `--ssh` through the real binary: flags are
// parsed as buildx parses them and bad ones fail before anything is built,
// with messages that name the id or the key, never a value.
#include <gtest/gtest.h>

#include "cli/image_cli_fixture.hpp"

namespace strata::imagetest {
namespace {

class SecretCli : public CliTest {
  protected:
    void SetUp() override {
        CliTest::SetUp();
        ctx_ = dir_.path() / "ctx";
        write_file(ctx_ / "Dockerfile", "FROM busybox\nLABEL a=b\n");
    }
    RunResult build(std::vector<std::string> args,
                    const std::map<std::string, std::string>& env = {}) {
        args.insert(args.begin(), {"build", "-q"});
        args.push_back(ctx_.string());
        return strata(root_, std::move(args), {}, env);
    }
    fs::path ctx_;
};

TEST_F(SecretCli, GoodFlagsBuild) {
    write_file(dir_.path() / "tok", "file value");
    auto r = build({"--secret", "id=a,src=" + (dir_.path() / "tok").string(), "--secret",
                    "id=b,env=STRATA_CLI_B", "--secret", "id=STRATA_CLI_C", "--secret",
                    "id=d,type=env,src=STRATA_CLI_B"},
                   {{"STRATA_CLI_B", "b value"}, {"STRATA_CLI_C", "c value"}});
    EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(SecretCli, BadFlagsFailClearly) {
    auto r = build({"--secret", "id=x,value=hunter2"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("unexpected key 'value'"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;

    r = build({"--secret", "id=STRATA_CLI_NOPE"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("--secret id=STRATA_CLI_NOPE"), std::string::npos) << r.err;

    r = build({"--secret", "src=/etc/hostname"});
    EXPECT_NE(r.err.find("missing id="), std::string::npos) << r.err;

    r = build({"--ssh", "default"}, {{"SSH_AUTH_SOCK", ""}});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("SSH_AUTH_SOCK is not set"), std::string::npos) << r.err;

    r = build({"--ssh", "k=" + (dir_.path() / "missing-key").string()});
    EXPECT_NE(r.err.find("cannot use"), std::string::npos) << r.err;
    EXPECT_TRUE(tmp_is_empty(root_));
}

}  // namespace
}  // namespace strata::imagetest
