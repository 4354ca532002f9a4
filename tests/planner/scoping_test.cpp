// ARG/ENV scoping and expansion, table-driven: each row a small Dockerfile
// and build args; the value of LABEL r in the target stage (or the error).
#include <gtest/gtest.h>

#include "planner_test_support.hpp"

namespace strata::planner {
namespace {

using testing::FakeResolver;

struct ScopeRow {
    const char* name;
    const char* dockerfile;
    std::map<std::string, std::string> args;
    std::string expected;  // value of label "r", or "ERROR:<substring>"
};

const std::vector<ScopeRow>& scope_rows() {
    static const std::vector<ScopeRow> rows = {
        {"global ARG is not visible in a stage", "ARG V=1\nFROM scratch\nLABEL r=[$V]\n", {}, "[]"},
        {"global ARG redeclared in the stage",
         "ARG V=1\nFROM scratch\nARG V\nLABEL r=$V\n",
         {},
         "1"},
        {"build arg overrides a global default",
         "ARG V=1\nFROM scratch\nARG V\nLABEL r=$V\n",
         {{"V", "2"}},
         "2"},
        {"stage ARG default", "FROM scratch\nARG V=d\nLABEL r=$V\n", {}, "d"},
        {"build arg overrides a stage default",
         "FROM scratch\nARG V=d\nLABEL r=$V\n",
         {{"V", "b"}},
         "b"},
        {"ARG without value or build arg is unset",
         "FROM scratch\nARG V\nLABEL r=${V:-unset}\n",
         {},
         "unset"},
        {"ARG without default takes the build arg",
         "FROM scratch\nARG V\nLABEL r=$V\n",
         {{"V", "x"}},
         "x"},
        {"stage default beats the global value",
         "ARG V=g\nFROM scratch\nARG V=s\nLABEL r=$V\n",
         {},
         "s"},
        {"ENV after ARG overrides it", "FROM scratch\nARG V=a\nENV V=e\nLABEL r=$V\n", {}, "e"},
        {"ARG with a value after ENV wins (BuildKit)",
         "FROM scratch\nENV V=e\nARG V=a\nLABEL r=$V\n",
         {},
         "a"},
        {"ARG without value after ENV keeps the ENV",
         "FROM scratch\nENV V=e\nARG V\nLABEL r=$V\n",
         {},
         "e"},
        {"base image Env is the starting environment",
         "FROM img\nLABEL r=$FROM_IMAGE\n",
         {},
         "yes"},
        {"ENV overrides the base image Env",
         "FROM img\nENV FROM_IMAGE=no\nLABEL r=$FROM_IMAGE\n",
         {},
         "no"},
        {"ARG of another stage is not visible",
         "FROM scratch AS a\nARG V=1\nFROM scratch\nLABEL r=[$V]\n",
         {},
         "[]"},
        {"FROM <stage> inherits its ARG values (BuildKit)",
         "FROM scratch AS a\nARG V=1\nFROM a\nLABEL r=$V\n",
         {},
         "1"},
        {"FROM <stage> inherits its ENV",
         "FROM scratch AS a\nENV V=e\nFROM a\nLABEL r=$V\n",
         {},
         "e"},
        {"ENV pairs on one line see the old values",
         "FROM scratch\nENV A=1\nENV A=2 B=$A\nLABEL r=$A$B\n",
         {},
         "21"},
        {"ARG defaults on one line see the earlier ones",
         "FROM scratch\nARG A=1 B=${A}x\nLABEL r=$B\n",
         {},
         "1x"},
        {"global ARG default uses an earlier global",
         "ARG A=1\nARG B=$A-2\nFROM scratch\nARG B\nLABEL r=$B\n",
         {},
         "1-2"},
        {"global ARG default sees a build arg of an earlier global",
         "ARG A=1\nARG B=$A-2\nFROM scratch\nARG B\nLABEL r=$B\n",
         {{"A", "9"}},
         "9-2"},
        {"platform args need ARG in the stage", "FROM scratch\nLABEL r=[$TARGETARCH]\n", {}, "[]"},
        {"platform arg declared in the stage",
         "FROM scratch\nARG TARGETARCH\nLABEL r=$TARGETARCH\n",
         {},
         "amd64"},
        {"TARGETPLATFORM and BUILDOS",
         "FROM scratch\nARG TARGETPLATFORM BUILDOS\nLABEL r=$TARGETPLATFORM-$BUILDOS\n",
         {},
         "linux/amd64-linux"},
        {"undeclared proxy arg is not expanded",
         "FROM scratch\nLABEL r=[$HTTP_PROXY]\n",
         {{"HTTP_PROXY", "http://p"}},
         "[]"},
        {"declared proxy arg is expanded",
         "FROM scratch\nARG HTTP_PROXY\nLABEL r=$HTTP_PROXY\n",
         {{"HTTP_PROXY", "http://p"}},
         "http://p"},
        {"undeclared build arg is not visible", "FROM scratch\nLABEL r=[$X]\n", {{"X", "1"}}, "[]"},
        {"build arg values are not expanded again",
         "FROM scratch\nENV E=1\nARG V\nLABEL r=$V\n",
         {{"V", "$E"}},
         "$E"},
        {"ARG default reads ENV", "FROM scratch\nENV E=1\nARG A=$E-x\nLABEL r=$A\n", {}, "1-x"},
        {"quotes are removed", "FROM scratch\nENV A=\"x y\"\nLABEL r=\"[$A]\"\n", {}, "[x y]"},
        {"single quotes keep $", "FROM scratch\nENV A=1\nLABEL r='$A'\n", {}, "$A"},
        {"escape directive: backtick escapes $",
         "# escape=`\nFROM scratch\nENV A=1\nLABEL r=`$A\n",
         {},
         "$A"},
        {"${V:+alt} and ${V:-def}",
         "FROM scratch\nARG V=x\nLABEL r=${V:+alt}${W:-def}\n",
         {},
         "altdef"},
        {"${V%.*} and ${V#*.}",
         "FROM scratch\nARG V=a.b.c\nLABEL r=${V%.*}|${V#*.}\n",
         {},
         "a.b|b.c"},
        {"${V:?msg} fails when unset",
         "FROM scratch\nARG V\nLABEL r=\"${V:?must be set}\"\n",
         {},
         "ERROR:V: must be set"},
        {"${V:?msg} passes when set",
         "FROM scratch\nARG V\nLABEL r=\"${V:?must be set}\"\n",
         {{"V", "ok"}},
         "ok"},
        {"bad substitution", "FROM scratch\nLABEL r=${}\n", {}, "ERROR:bad substitution"},
        {"an unused bad ARG default is never expanded",
         "FROM scratch\nARG V=${}\nLABEL r=$V\n",
         {{"V", "given"}},
         "given"},
        {"global ARG expansion error",
         "ARG V=\"${W:?no W}\"\nFROM scratch\nLABEL r=x\n",
         {},
         "ERROR:W: no W"},
    };
    return rows;
}

class ScopeTest : public ::testing::TestWithParam<ScopeRow> {};

TEST_P(ScopeTest, LabelValue) {
    const ScopeRow& row = GetParam();
    FakeResolver images;
    images.images["img"] = testing::image("sha256:img", {"FROM_IMAGE=yes", "PATH=/bin"});
    if (row.expected.rfind("ERROR:", 0) == 0) {
        try {
            testing::plan(row.dockerfile, images, testing::options(row.args));
            FAIL() << "expected an error containing " << row.expected.substr(6);
        } catch (const frontend::ParseError& e) {
            EXPECT_NE(std::string(e.what()).find(row.expected.substr(6)), std::string::npos)
                << e.what();
            EXPECT_GT(e.diagnostic().pos.line, 0U) << "errors are located";
        }
        return;
    }
    const BuildPlan p = testing::plan(row.dockerfile, images, testing::options(row.args));
    EXPECT_EQ(testing::label(p.target_stage(), "r"), row.expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, ScopeTest, ::testing::ValuesIn(scope_rows()), [](const auto& info) {
    std::string n;
    for (const char* c = info.param.name; *c; ++c)
        n += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
    return n;
});

TEST(Scoping, TableHasEnoughRows) {
    EXPECT_GE(scope_rows().size(), 20U);
}

TEST(Scoping, FromExpandsGlobalArgsAndPlatformArgs) {
    FakeResolver images;
    images.images["busybox:amd64"] = testing::image("sha256:bb");
    images.images["alpine:3.20"] = testing::image("sha256:al");
    const BuildPlan p = testing::plan(
        "ARG TAG=3.20\nFROM alpine:${TAG} AS a\nFROM busybox:$TARGETARCH\nCOPY --from=a /x /y\n",
        images);
    ASSERT_EQ(p.stages.size(), 2U);
    EXPECT_EQ(p.stages[0].base_ref, "alpine:3.20");
    EXPECT_EQ(p.stages[1].base_ref, "busybox:amd64");
    EXPECT_EQ(p.stages[1].base_image.digest, "sha256:bb");
}

TEST(Scoping, BlankBaseNameIsALocatedError) {
    FakeResolver images;
    try {
        testing::plan("ARG BASE\nFROM $BASE\n", images);
        FAIL();
    } catch (const frontend::ParseError& e) {
        EXPECT_NE(std::string(e.what()).find("base name ($BASE) should not be blank"),
                  std::string::npos);
        EXPECT_EQ(e.diagnostic().pos.line, 2U);
    }
}

TEST(Scoping, RunSeesArgsAndEnvButProxiesSeparately) {
    FakeResolver images;
    images.images["img"] = testing::image("sha256:img", {"PATH=/usr/bin", "FROM_IMAGE=yes"});
    const BuildPlan p =
        testing::plan("FROM img\nARG A=1\nENV B=2\nARG C\nRUN env\n", images,
                      testing::options({{"HTTPS_PROXY", "http://proxy"}, {"UNUSED", "x"}}));
    const Step* run = testing::find_step(p.target_stage(), "RUN");
    ASSERT_NE(run, nullptr);
    const std::vector<EnvVar> want = {
        {"PATH", "/usr/bin"}, {"FROM_IMAGE", "yes"}, {"A", "1"}, {"B", "2"}};
    EXPECT_EQ(run->run.env, want);
    EXPECT_EQ(run->run.proxy_env, (std::vector<EnvVar>{{"HTTPS_PROXY", "http://proxy"},
                                                       {"https_proxy", "http://proxy"}}));
    EXPECT_EQ(run->effect.history->created_by, "RUN |2 A=1 C= /bin/sh -c env # buildkit");
    for (const KeyField& f : run->key_fields) {
        EXPECT_EQ(f.value.find("proxy"), std::string::npos) << "proxy args stay out of keys";
    }
    EXPECT_EQ(p.unused_build_args, std::vector<std::string>{"UNUSED"});
    EXPECT_EQ(unused_build_args_warning(p),
              "[Warning] One or more build-args [UNUSED] were not consumed");
}

TEST(Scoping, ResolveBuildArgsTakesBareNamesFromTheEnvironment) {
    const auto getenv = [](const std::string& name) -> std::optional<std::string> {
        if (name == "FROM_ENV") return "env-value";
        return std::nullopt;
    };
    const auto args = resolve_build_args({"A=1", "FROM_ENV", "MISSING", "A=2", "E="}, getenv);
    const std::map<std::string, std::string> want = {
        {"A", "2"}, {"E", ""}, {"FROM_ENV", "env-value"}};
    EXPECT_EQ(args, want);
}

TEST(Scoping, WorkdirIsRelativeToThePreviousOne) {
    FakeResolver images;
    images.images["img"] = testing::image("sha256:img");
    images.images["img"].working_dir = "/base";
    const BuildPlan p = testing::plan(
        "FROM img\nWORKDIR app\nWORKDIR ../lib/./x\nENV D=/abs\nWORKDIR $D\nWORKDIR /\n"
        "COPY a b\n",
        images);
    const StagePlan& s = p.target_stage();
    EXPECT_EQ(*s.steps[0].effect.working_dir, "/base/app");
    EXPECT_EQ(*s.steps[1].effect.working_dir, "/base/lib/x");
    EXPECT_EQ(*s.steps[3].effect.working_dir, "/abs");
    EXPECT_EQ(s.steps[3].effect.history->created_by, "WORKDIR /abs");
    EXPECT_FALSE(s.steps[4].changes_filesystem) << "WORKDIR / makes no layer";
    EXPECT_TRUE(s.steps[4].effect.history->empty_layer);
    EXPECT_EQ(s.steps[5].copy.dest_path, "/b");
}

}  // namespace
}  // namespace strata::planner
