// RUN --mount values expanded with the stage's ARG and ENV as BuildKit does
// (type=, target=, id=, size=, readonly= ... all of them), except from=,
// which BuildKit refuses with its own error; tmpfs size= parsed the way
// go-units' RAMInBytes (base/go/units) parses it.
#include <gtest/gtest.h>

#include "frontend/diagnostic.hpp"
#include "planner/run_mount.hpp"
#include "planner_test_support.hpp"

namespace strata::planner {
namespace {

using testing::FakeResolver;

std::string plan_error(const std::string& text) {
    FakeResolver images;
    try {
        testing::plan(text, images);
    } catch (const frontend::ParseError& e) {
        return e.diagnostic().message;
    }
    return "<no error>";
}

std::vector<RunMount> mounts_of(const std::string& text,
                                std::map<std::string, std::string> args = {}) {
    FakeResolver images;
    const BuildPlan p = testing::plan(text, images, testing::options(std::move(args)));
    const Step* run = testing::find_step(p.stages.back(), "RUN");
    EXPECT_NE(run, nullptr);
    return run ? run->run.mounts : std::vector<RunMount>{};
}

TEST(MountExpansion, TypeTargetIdAndOptionsFromArgAndEnv) {
    const auto m = mounts_of(
        "FROM scratch\nARG T=cache\nENV DIR=/root/.cache ID=pip RO=false\n"
        "RUN --mount=type=$T,target=$DIR,id=${ID}-v1,readonly=$RO true\n");
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].type, "cache");
    EXPECT_EQ(m[0].target, "/root/.cache");
    EXPECT_EQ(m[0].id, "pip-v1");
    EXPECT_FALSE(m[0].read_only);
    EXPECT_EQ(m[0].from.kind, SourceRef::Kind::kScratch) << "a cache mount starts empty";
}

// BuildKit lower-cases keys, the type and the sharing mode (also once
// expanded); the error names a wrong value as written.
TEST(MountExpansion, KeysTypeAndSharingAreCaseInsensitive) {
    auto m = mounts_of("FROM scratch\nRUN --mount=TYPE=CACHE,Target=/c,SHARING=Locked true\n");
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].type, "cache");
    EXPECT_EQ(m[0].target, "/c");
    EXPECT_EQ(m[0].options.at("sharing"), "locked");
    EXPECT_FALSE(m[0].read_only) << "a cache mount is writable unless said otherwise";
    m = mounts_of("FROM scratch\nARG T=Tmpfs\nRUN --mount=type=$T,target=/t,size=1m true\n");
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].type, "tmpfs");
    EXPECT_EQ(plan_error("FROM scratch\nRUN --mount=type=Cahce,target=/c true\n"),
              "unsupported mount type \"Cahce\"");
}

TEST(MountExpansion, TypeFromABuildArgDecidesWhatIsAllowed) {
    // tmpfs only knows size=: with type=$T the check waits for the value.
    auto m = mounts_of("FROM scratch\nARG T\nRUN --mount=type=$T,target=/t,size=64m true\n",
                       {{"T", "tmpfs"}});
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].type, "tmpfs");
    EXPECT_EQ(m[0].options.at("size"), "64m");
    EXPECT_NE(plan_error("FROM scratch\nARG T=bind\nRUN --mount=type=$T,target=/t,size=64m true\n")
                  .find("unexpected key 'size' for mount type 'bind'"),
              std::string::npos);
    EXPECT_NE(plan_error("FROM scratch\nARG T=volume\nRUN --mount=type=$T,target=/t true\n")
                  .find("unsupported mount type \"volume\""),
              std::string::npos);
    // mode= is checked against the expanded type too.
    m = mounts_of("FROM scratch\nARG T=cache M=0700\nRUN --mount=type=$T,target=/c,mode=$M true\n");
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].options.at("mode"), "0700");
}

TEST(MountExpansion, SecretIdAndSizeFromVariables) {
    auto m = mounts_of("FROM scratch\nARG S=npmrc\nRUN --mount=type=secret,id=$S true\n");
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].id, "npmrc");
    EXPECT_EQ(m[0].target, "/run/secrets/npmrc");
    m = mounts_of("FROM scratch\nENV SZ=1g\nRUN --mount=type=tmpfs,target=/t,size=$SZ true\n");
    EXPECT_EQ(m.at(0).options.at("size"), "1g");
}

TEST(MountExpansion, FromRefusesVariablesWithBuildKitsError) {
    const std::string want =
        "'from' doesn't support variable expansion, define alias stage instead";
    EXPECT_NE(plan_error("FROM scratch AS src\nFROM scratch\nENV S=src\n"
                         "RUN --mount=from=$S,target=/s true\n")
                  .find(want),
              std::string::npos);
    EXPECT_NE(plan_error("FROM scratch AS src\nFROM scratch\nARG S=src\n"
                         "RUN --mount=type=cache,from=${S},target=/s true\n")
                  .find(want),
              std::string::npos);
    EXPECT_NE(plan_error("FROM scratch AS src\nFROM scratch\n"
                         "RUN --mount=target=/s,from=a$S true\n")
                  .find(want),
              std::string::npos);
    // Only a '$' followed by something is a variable (BuildKit's check).
    EXPECT_EQ(
        plan_error("FROM scratch AS src\nFROM scratch\nRUN --mount=from=src,target=/s true\n"),
        "<no error>");
    try {
        parse_mount("from=$S,target=/x");
        ADD_FAILURE() << "no error";
    } catch (const MountError& e) {
        EXPECT_EQ(e.message, want);
    }
    EXPECT_NO_THROW(parse_mount("from=img$,target=/x"));
}

TEST(MountExpansion, BadTmpfsSizeIsAPlanError) {
    const std::string e =
        plan_error("FROM scratch\nARG SZ=lots\nRUN --mount=type=tmpfs,target=/t,size=$SZ true\n");
    EXPECT_NE(e.find("invalid value for size: lots: invalid size: 'lots'"), std::string::npos) << e;
    EXPECT_NE(plan_error("FROM scratch\nRUN --mount=type=tmpfs,target=/t,size=10q true\n")
                  .find("invalid suffix: 'q'"),
              std::string::npos);
}

}  // namespace
}  // namespace strata::planner
