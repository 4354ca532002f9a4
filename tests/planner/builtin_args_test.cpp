// The build args BuildKit itself gives meaning to: the proxy args (both
// spellings in RUN's environment, never in history, config or keys unless
// declared), the platform args and TARGETSTAGE, BUILDKIT_SANDBOX_HOSTNAME,
// BUILDKIT_CACHE_MOUNT_NS, and SOURCE_DATE_EPOCH as a build arg or a global
// ARG default.
#include <gtest/gtest.h>

#include "planner_test_support.hpp"

namespace strata::planner {
namespace {

using Args = std::map<std::string, std::string>;

BuildPlan plan_with(const std::string& text, Args args, std::string target = {}) {
    testing::FakeResolver images;
    images.images["img"] = testing::image("sha256:img", {"PATH=/usr/bin"});
    return testing::plan(text, images, testing::options(std::move(args), std::move(target)));
}

const RunStep& first_run(const BuildPlan& p) {
    const Step* s = testing::find_step(p.target_stage(), "RUN");
    if (s == nullptr) throw std::runtime_error("no RUN step");
    return s->run;
}

std::optional<std::string> env_of(const RunStep& r, const std::string& name) {
    for (const auto& [k, v] : r.env) {
        if (k == name) return v;
    }
    return std::nullopt;
}

std::vector<KeyField> run_keys(const BuildPlan& p) {
    return testing::find_step(p.target_stage(), "RUN")->key_fields;
}

// --- proxies --------------------------------------------------------------

TEST(ProxyArgs, EachGivenSpellingSetsBothSpellings) {
    struct Case {
        Args args;
        std::vector<EnvVar> want;
    };
    const std::vector<Case> cases = {
        {{{"http_proxy", "http://p:1"}},
         {{"HTTP_PROXY", "http://p:1"}, {"http_proxy", "http://p:1"}}},
        {{{"HTTPS_PROXY", "http://p:2"}},
         {{"HTTPS_PROXY", "http://p:2"}, {"https_proxy", "http://p:2"}}},
        {{{"Ftp_Proxy", "ftp://p"}}, {{"FTP_PROXY", "ftp://p"}, {"ftp_proxy", "ftp://p"}}},
        {{{"no_proxy", "localhost"}, {"ALL_PROXY", "socks5://p"}},
         {{"NO_PROXY", "localhost"},
          {"no_proxy", "localhost"},
          {"ALL_PROXY", "socks5://p"},
          {"all_proxy", "socks5://p"}}},
        // Both spellings given: BuildKit walks the sorted names, so the lower
        // case one (sorting after) wins for both.
        {{{"HTTP_PROXY", "upper"}, {"http_proxy", "lower"}},
         {{"HTTP_PROXY", "lower"}, {"http_proxy", "lower"}}},
        {{{"http_proxy", ""}}, {}},  // an empty value sets nothing
        {{{"OTHER", "x"}}, {}},
    };
    for (const Case& c : cases) {
        const BuildPlan p = plan_with("FROM img\nRUN true\n", c.args);
        EXPECT_EQ(first_run(p).proxy_env, c.want) << c.args.begin()->first;
    }
}

TEST(ProxyArgs, UndeclaredStayOutOfHistoryConfigAndKeys) {
    const BuildPlan p =
        plan_with("FROM img\nRUN true\nENV A=1\n", {{"http_proxy", "http://secret:1"}});
    const Step* run = testing::find_step(p.target_stage(), "RUN");
    EXPECT_EQ(run->effect.history->created_by, "RUN /bin/sh -c true # buildkit");
    EXPECT_FALSE(env_of(run->run, "http_proxy"));
    for (const Step& s : p.target_stage().steps) {
        for (const auto& [k, v] : s.effect.env)
            EXPECT_EQ(v.find("secret"), std::string::npos) << k;
        for (const KeyField& f : s.key_fields)
            EXPECT_EQ(f.value.find("secret"), std::string::npos) << f.name;
    }
    const BuildPlan q =
        plan_with("FROM img\nRUN true\nENV A=1\n", {{"http_proxy", "http://other"}});
    EXPECT_EQ(run_keys(p), run_keys(q)) << "a new proxy does not bust the cache";
    EXPECT_TRUE(p.unused_build_args.empty());
}

TEST(ProxyArgs, DeclaredSpellingIsAnArgTheOtherStillAProxy) {
    const BuildPlan p =
        plan_with("FROM img\nARG http_proxy\nRUN true\n", {{"http_proxy", "http://p:3"}});
    const RunStep& r = first_run(p);
    EXPECT_EQ(env_of(r, "http_proxy"), "http://p:3");
    EXPECT_EQ(r.proxy_env, (std::vector<EnvVar>{{"HTTP_PROXY", "http://p:3"}}));
    EXPECT_EQ(testing::find_step(p.target_stage(), "RUN")->effect.history->created_by,
              "RUN |1 http_proxy=http://p:3 /bin/sh -c true # buildkit");
    // An ENV of the same name keeps its value for that spelling.
    const BuildPlan q =
        plan_with("FROM img\nENV HTTPS_PROXY=mine\nRUN true\n", {{"https_proxy", "given"}});
    EXPECT_EQ(env_of(first_run(q), "HTTPS_PROXY"), "mine");
    EXPECT_EQ(first_run(q).proxy_env, (std::vector<EnvVar>{{"https_proxy", "given"}}));
}

// --- platform args and TARGETSTAGE -----------------------------------------

std::string stage_arg(const std::string& dockerfile_tail, const std::string& name, Args args = {},
                      std::string target = {}) {
    const BuildPlan p = plan_with(dockerfile_tail, std::move(args), std::move(target));
    return env_of(first_run(p), name).value_or("<unset>");
}

TEST(BuiltinArgs, TargetStage) {
    EXPECT_EQ(stage_arg("FROM img\nARG TARGETSTAGE\nRUN true\n", "TARGETSTAGE"), "default");
    EXPECT_EQ(stage_arg("FROM img AS a\nFROM img\nARG TARGETSTAGE\nRUN true\n", "TARGETSTAGE"),
              "default");
    EXPECT_EQ(stage_arg("FROM img AS Final\nARG TARGETSTAGE\nRUN true\n", "TARGETSTAGE"), "final");
    EXPECT_EQ(stage_arg("FROM img AS build\nARG TARGETSTAGE\nRUN true\nFROM img\n", "TARGETSTAGE",
                        {}, "build"),
              "build");
    EXPECT_EQ(stage_arg("FROM img\nARG TARGETSTAGE\nRUN true\n", "TARGETSTAGE",
                        {{"TARGETSTAGE", "mine"}}),
              "mine");
    // Global: usable in FROM without a declaration.
    const BuildPlan p =
        plan_with("FROM img AS default\nRUN true\nFROM ${TARGETSTAGE}\nRUN x\n", {});
    EXPECT_EQ(p.target_stage().base_kind, StagePlan::BaseKind::kStage);
}

TEST(BuiltinArgs, PlatformArgsHaveTheHostPlatform) {
    const Platform h = host_platform();
    const std::string df =
        "FROM img\nARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDOS "
        "BUILDARCH BUILDVARIANT\nRUN true\n";
    const BuildPlan p = plan_with(df, {});
    const RunStep& r = first_run(p);
    EXPECT_EQ(env_of(r, "TARGETPLATFORM"), h.str());
    EXPECT_EQ(env_of(r, "BUILDPLATFORM"), h.str());
    EXPECT_EQ(env_of(r, "TARGETOS"), "linux");
    EXPECT_EQ(env_of(r, "BUILDOS"), "linux");
    EXPECT_EQ(env_of(r, "TARGETARCH"), h.architecture);
    EXPECT_EQ(env_of(r, "BUILDARCH"), h.architecture);
    EXPECT_EQ(env_of(r, "TARGETVARIANT"), h.variant);
    EXPECT_EQ(env_of(r, "BUILDVARIANT"), h.variant);
    // Not in a stage without a declaration.
    EXPECT_FALSE(env_of(first_run(plan_with("FROM img\nRUN true\n", {})), "TARGETARCH"));
}

TEST(BuiltinArgs, BuildkitArgsAreNotReportedUnused) {
    const BuildPlan p = plan_with("FROM img\nRUN true\n", {{"BUILDKIT_SANDBOX_HOSTNAME", "h"},
                                                           {"BUILDKIT_INLINE_CACHE", "1"},
                                                           {"SOURCE_DATE_EPOCH", "10"},
                                                           {"TARGETSTAGE", "x"},
                                                           {"MINE", "1"}});
    EXPECT_EQ(p.unused_build_args, std::vector<std::string>{"MINE"});
}

// --- BUILDKIT_SANDBOX_HOSTNAME and BUILDKIT_CACHE_MOUNT_NS -----------------

TEST(SandboxHostname, BuildArgSetsEveryRunsHostnameAndKey) {
    const std::string df = "FROM img AS a\nRUN one\nFROM a\nRUN two\n";
    const BuildPlan p = plan_with(df, {{"BUILDKIT_SANDBOX_HOSTNAME", "myhost"}});
    for (const StagePlan& st : p.stages) {
        const Step* run = testing::find_step(st, "RUN");
        ASSERT_NE(run, nullptr);
        EXPECT_EQ(run->run.hostname, "myhost");
        EXPECT_NE(std::find(run->key_fields.begin(), run->key_fields.end(),
                            KeyField{"hostname", "myhost"}),
                  run->key_fields.end());
    }
    const BuildPlan none = plan_with(df, {});
    EXPECT_EQ(first_run(none).hostname, "") << "the runner's default, buildkitsandbox";
    const BuildPlan other = plan_with(df, {{"BUILDKIT_SANDBOX_HOSTNAME", "other"}});
    EXPECT_NE(run_keys(p), run_keys(other));
    EXPECT_NE(run_keys(p), run_keys(none));
    // Only a build arg counts (dockerui reads it from the request), not an ARG default.
    const BuildPlan arg =
        plan_with("ARG BUILDKIT_SANDBOX_HOSTNAME=fromarg\nFROM img\nRUN true\n", {});
    EXPECT_EQ(first_run(arg).hostname, "");
}

TEST(CacheMountNamespace, PrefixesCacheIds) {
    const std::string df =
        "FROM img\nRUN --mount=type=cache,target=/c --mount=type=cache,id=x,target=/d "
        "--mount=type=tmpfs,target=/t true\n";
    const BuildPlan p = plan_with(df, {{"BUILDKIT_CACHE_MOUNT_NS", "ns1"}});
    const RunStep& r = first_run(p);
    ASSERT_EQ(r.mounts.size(), 3U);
    EXPECT_EQ(r.mounts[0].id, "ns1//c");
    EXPECT_EQ(r.mounts[1].id, "ns1/x");
    EXPECT_EQ(r.mounts[2].id, "");
    const BuildPlan plain = plan_with(df, {});
    EXPECT_EQ(first_run(plain).mounts[1].id, "x");
    EXPECT_NE(run_keys(p), run_keys(plain));
}

// --- SOURCE_DATE_EPOCH -----------------------------------------------------

TEST(SourceDateEpochArg, BuildArgAndGlobalDefault) {
    EXPECT_EQ(plan_with("FROM img\n", {{"SOURCE_DATE_EPOCH", "1700000000"}}).source_date_epoch,
              1700000000);
    EXPECT_EQ(plan_with("ARG SOURCE_DATE_EPOCH=42\nFROM img\n", {}).source_date_epoch, 42);
    EXPECT_EQ(plan_with("ARG SOURCE_DATE_EPOCH=42\nFROM img\n", {{"SOURCE_DATE_EPOCH", "7"}})
                  .source_date_epoch,
              7);
    EXPECT_EQ(plan_with("ARG E=9\nARG SOURCE_DATE_EPOCH=$E\nFROM img\n", {}).source_date_epoch, 9);
    EXPECT_FALSE(plan_with("FROM img\n", {}).source_date_epoch);
    EXPECT_FALSE(plan_with("ARG SOURCE_DATE_EPOCH\nFROM img\n", {}).source_date_epoch);
    EXPECT_FALSE(plan_with("FROM img\n", {{"SOURCE_DATE_EPOCH", ""}}).source_date_epoch);
    // Only the global scope counts, as in BuildKit.
    EXPECT_FALSE(plan_with("FROM img\nARG SOURCE_DATE_EPOCH=5\n", {}).source_date_epoch);
}

TEST(SourceDateEpochArg, StagesSeeTheNormalizedValue) {
    const BuildPlan p =
        plan_with("FROM img\nARG SOURCE_DATE_EPOCH\nRUN true\n", {{"SOURCE_DATE_EPOCH", "+0100"}});
    EXPECT_EQ(p.source_date_epoch, 100);
    EXPECT_EQ(env_of(first_run(p), "SOURCE_DATE_EPOCH"), "100");
}

TEST(SourceDateEpochArg, InvalidValuesAreRejected) {
    struct Case {
        std::string dockerfile;
        Args args;
        std::string want;
    };
    const std::vector<Case> cases = {
        {"FROM img\n",
         {{"SOURCE_DATE_EPOCH", "yesterday"}},
         "invalid SOURCE_DATE_EPOCH: yesterday: strconv.ParseInt: parsing \"yesterday\": invalid "
         "syntax"},
        {"FROM img\n", {{"SOURCE_DATE_EPOCH", "12abc"}}, "invalid SOURCE_DATE_EPOCH: 12abc"},
        {"FROM img\n",
         {{"SOURCE_DATE_EPOCH", "99999999999999999999"}},
         "invalid SOURCE_DATE_EPOCH: 99999999999999999999"},
        {"FROM img\n", {{"SOURCE_DATE_EPOCH", "-5"}}, "invalid SOURCE_DATE_EPOCH: -5"},
        {"FROM scratch AS src\nFROM img\n",
         {{"SOURCE_DATE_EPOCH", "src"}},
         "invalid SOURCE_DATE_EPOCH: src"},
    };
    for (const Case& c : cases) {
        try {
            plan_with(c.dockerfile, c.args);
            ADD_FAILURE() << "accepted " << c.args.begin()->second;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(c.want), std::string::npos) << e.what();
        }
    }
}

// "context": a Git context's commit time; none for a local context, as in
// BuildKit (the build arg and a global ARG default alike).
TEST(SourceDateEpochArg, ContextIsTheCommitTimeOfAGitContext) {
    testing::FakeResolver images;
    images.images["img"] = testing::image("sha256:img");
    PlanOptions o = testing::options({{"SOURCE_DATE_EPOCH", "context"}});
    o.context_time = 1712345678;
    BuildPlan p = testing::plan("FROM img\nARG SOURCE_DATE_EPOCH\nRUN true\n", images, o);
    EXPECT_EQ(p.source_date_epoch, 1712345678);
    EXPECT_EQ(env_of(first_run(p), "SOURCE_DATE_EPOCH"), "1712345678");

    o = testing::options();
    o.context_time = 1712345678;
    p = testing::plan("ARG SOURCE_DATE_EPOCH=context\nFROM img\n", images, o);
    EXPECT_EQ(p.source_date_epoch, 1712345678);

    p = plan_with("FROM img\nARG SOURCE_DATE_EPOCH\nRUN true\n",
                  {{"SOURCE_DATE_EPOCH", "context"}});
    EXPECT_FALSE(p.source_date_epoch) << "a local context gives no time";
    EXPECT_FALSE(env_of(first_run(p), "SOURCE_DATE_EPOCH"));
}

TEST(SourceDateEpochArg, InvalidGlobalDefaultIsLocated) {
    try {
        plan_with("FROM img AS x\nARG SOURCE_DATE_EPOCH=x\n", {});  // a stage ARG: ignored
        testing::FakeResolver images;
        images.images["img"] = testing::image("sha256:img");
        testing::plan("# c\nARG SOURCE_DATE_EPOCH=soon\nFROM img\n", images);
        FAIL() << "accepted";
    } catch (const frontend::ParseError& e) {
        EXPECT_EQ(e.diagnostic().pos.line, 2U);
        EXPECT_NE(std::string(e.what()).find("invalid SOURCE_DATE_EPOCH: soon"), std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace strata::planner
