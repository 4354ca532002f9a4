// Built-in build args end to end: BUILDKIT_SANDBOX_HOSTNAME is RUN's hostname
// (and in its /etc/hosts), a proxy build arg reaches RUN in both spellings but
// not the image, and SOURCE_DATE_EPOCH as a build arg or a global ARG default
// gives the same image as the epoch option.
#include <gtest/gtest.h>

#include "build_fixture.hpp"

namespace strata::buildtest {
namespace {

class BuiltinArgsRun : public RunBuildTest {
  public:
    void SetUp() override {
        RunBuildTest::SetUp();
        if (IsSkipped()) return;
        use_container_runner();
    }
};

TEST_F(BuiltinArgsRun, SandboxHostnameAndProxies) {
    executor::BuildRequest req = request(
        "FROM busybox:latest AS a\n"
        "RUN hostname > /h1\n"
        "FROM a\n"
        "RUN hostname > /h2; cat /etc/hosts > /hosts; env | sort > /env\n");
    req.plan.build_args = {{"BUILDKIT_SANDBOX_HOSTNAME", "custom-host"},
                           {"https_proxy", "http://127.0.0.1:3129"},
                           {"No_Proxy", "localhost"}};
    const auto r = build(req);
    const Tree t = rootfs(r);
    EXPECT_EQ(t.at("/h1").data, "custom-host\n");
    EXPECT_EQ(t.at("/h2").data, "custom-host\n");
    EXPECT_NE(t.at("/hosts").data.find("127.0.0.1\tlocalhost custom-host\n"), std::string::npos)
        << t.at("/hosts").data;
    const std::string env = t.at("/env").data;
    for (const char* want :
         {"HTTPS_PROXY=http://127.0.0.1:3129\n", "https_proxy=http://127.0.0.1:3129\n",
          "NO_PROXY=localhost\n", "no_proxy=localhost\n"})
        EXPECT_NE(env.find(want), std::string::npos) << want << " in\n" << env;
    const auto cfg = config(r);
    for (const auto& h : cfg.history)
        EXPECT_EQ(h.created_by.find("proxy"), std::string::npos) << h.created_by;
    for (const auto& e : cfg.config.env)
        EXPECT_EQ(e.find("proxy"), std::string::npos) << e;

    // Without the arg: BuildKit's default name.
    const Tree d = rootfs(build(request("FROM busybox:latest\nRUN hostname > /h\n")));
    EXPECT_EQ(d.at("/h").data, "buildkitsandbox\n");
}

class SourceDateEpochArg : public BuildTest {
  public:
    static constexpr const char* kDockerfile = "FROM base:latest\nCOPY a.txt /a.txt\nLABEL x=y\n";
};

TEST_F(SourceDateEpochArg, BuildArgWorksLikeTheOption) {
    file("a.txt", "a\n");
    executor::BuildRequest by_option = request(kDockerfile);
    by_option.source_date_epoch = 1600000000;
    const auto a = build(by_option);

    BuildEnv other;
    other.SetUp();
    other.file("a.txt", "a\n");
    executor::BuildRequest by_arg = other.request(kDockerfile);
    by_arg.plan.build_args = {{"SOURCE_DATE_EPOCH", "1600000000"}};
    const auto b = other.build(by_arg);
    EXPECT_EQ(b.image.manifest, a.image.manifest);
    const auto cfg = other.config(b);
    EXPECT_EQ(cfg.created, "2020-09-13T12:26:40Z");
    EXPECT_EQ(cfg.history.back().created, "2020-09-13T12:26:40Z");
}

TEST_F(SourceDateEpochArg, GlobalArgDefaultAndOverride) {
    file("a.txt", "a\n");
    const auto r = build("ARG SOURCE_DATE_EPOCH=1600000000\n" + std::string(kDockerfile));
    EXPECT_EQ(config(r).created, "2020-09-13T12:26:40Z");
    executor::BuildRequest req = request();
    req.plan.build_args = {{"SOURCE_DATE_EPOCH", "1500000000"}};
    EXPECT_EQ(config(build(req)).created, "2017-07-14T02:40:00Z");
    req.plan.build_args = {{"SOURCE_DATE_EPOCH", "later"}};
    try {
        build(req);
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("invalid SOURCE_DATE_EPOCH: later"), std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace strata::buildtest
