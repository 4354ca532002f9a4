// RUN --mount=type=cache with from=: the cache starts as a copy of the
// named stage's or image's files (at source=, else all of them), keeps what
// steps write in it under its id and that origin, and is not the cache of
// the same id without from= (BuildKit keys it by id and the origin's ref).
// Without from=, source= shows a part of the cache.
#include <gtest/gtest.h>

#include <string>

#include "build_fixture.hpp"
#include "frontend/diagnostic.hpp"

namespace strata::buildtest {
namespace {

class CacheMountFrom : public RunBuildTest {
  public:
    void SetUp() override {
        RunBuildTest::SetUp();
        if (IsSkipped()) return;
        use_container_runner();
    }
};

TEST_F(CacheMountFrom, StartsAsACopyOfTheStageAndKeepsWhatStepsWrite) {
    dockerfile(
        "FROM busybox:latest AS seed\n"
        "RUN mkdir -p /data/sub && echo seeded > /data/sub/f && ln -s sub/f /data/link && "
        "chown 1000:50 /data && chmod 0750 /data && chown 7:8 /data/sub/f\n"
        "FROM busybox:latest\n"
        "RUN --mount=type=cache,id=c1,from=seed,source=/data,target=/c "
        "cat /c/link > /out1 && stat -c '%u %g %a' /c /c/sub/f > /st && echo more > /c/more\n"
        "RUN --mount=type=cache,id=c1,from=seed,source=/data,target=/c ls /c > /out2\n"
        "RUN --mount=type=cache,id=c1,target=/c ls -A /c > /out3\n"
        "RUN --mount=type=cache,id=c2,from=seed,target=/c cat /c/data/sub/f > /out4\n"
        "RUN --mount=type=cache,id=c3,from=busybox:latest,source=/etc,target=/c "
        "grep -c root /c/passwd > /out5\n"
        // As BuildKit (checked side by side): uid=/gid=/mode= without
        // source= give a new empty directory; with source= they are ignored.
        "RUN --mount=type=cache,id=c4,from=seed,uid=5,gid=6,mode=0711,target=/c "
        "stat -c '%u %g %a' /c > /out6 && ls -A /c >> /out6\n"
        "RUN --mount=type=cache,id=c5,from=seed,source=/data,uid=5,mode=0700,target=/c "
        "stat -c '%u %g %a' /c > /out7\n");
    const Tree t = rootfs(build());
    expect_file(t, "/out1", "seeded\n");
    expect_file(t, "/st", "1000 50 750\n7 8 644\n");
    expect_file(t, "/out2", "link\nmore\nsub\n");  // the first step's write stayed
    expect_file(t, "/out3", "");                   // without from=: another cache
    expect_file(t, "/out4", "seeded\n");           // no source=: the whole filesystem
    EXPECT_NE(t.at("/out5").data, "0\n");
    expect_file(t, "/out6", "5 6 711\n");
    expect_file(t, "/out7", "1000 50 750\n");
    EXPECT_FALSE(t.count("/c/more")) << "the cache is not part of the layer";
    // Nothing of the seeding is left half-made.
    for (const auto& e : fs::directory_iterator(store().cache_dir() / "mounts"))
        EXPECT_FALSE(e.path().filename().string().starts_with(".seed-")) << e.path();
}

TEST_F(CacheMountFrom, ANewOriginIsANewCache) {
    file("v", "1\n");
    const std::string df =
        "FROM busybox:latest AS seed\n"
        "COPY v /data/v\n"
        "FROM busybox:latest\n"
        "RUN --mount=type=cache,id=c,from=seed,source=/data,target=/c "
        "cat /c/v > /seen && echo x >> /c/v\n";
    dockerfile(df);
    expect_file(rootfs(build()), "/seen", "1\n");
    file("v", "2\n");
    expect_file(rootfs(build()), "/seen", "2\n");  // seeded from the new files
    file("v", "1\n");
    // Back to the first origin: its cache, with the first build's write.
    dockerfile(df +
               "RUN --mount=type=cache,id=c,from=seed,source=/data,target=/c cat /c/v > "
               "/again\n");
    const Tree t = rootfs(build());
    expect_file(t, "/again", "1\nx\n");
}

TEST_F(CacheMountFrom, AMissingSourceSaysWhere) {
    dockerfile(
        "FROM busybox:latest AS seed\n"
        "RUN echo > /f\n"
        "FROM busybox:latest\n"
        "RUN --mount=type=cache,from=seed,source=/nope,target=/c true\n");
    try {
        build();
        ADD_FAILURE() << "the build must fail";
    } catch (const frontend::ParseError& e) {
        EXPECT_EQ(e.diagnostic().pos.line, 4u);
        EXPECT_NE(e.diagnostic().message.find("cache mount source /nope: not found in stage "
                                              "'seed'"),
                  std::string::npos)
            << e.diagnostic().message;
    }
}

// source= without from=: that part of the cache, as BuildKit shows it
// (checked side by side); a part that is not there fails the step.
TEST_F(CacheMountFrom, ASourceWithoutFromIsAPartOfTheCache) {
    dockerfile(
        "FROM busybox:latest\n"
        "RUN --mount=type=cache,id=s,target=/c mkdir -p /c/sub && echo hi > /c/sub/f\n"
        "RUN --mount=type=cache,id=s,source=sub,target=/c cat /c/f > /out && echo g > /c/g\n"
        "RUN --mount=type=cache,id=s,target=/c find /c | sort > /all\n");
    const Tree t = rootfs(build());
    expect_file(t, "/out", "hi\n");
    expect_file(t, "/all", "/c\n/c/sub\n/c/sub/f\n/c/sub/g\n");

    dockerfile("FROM busybox:latest\nRUN --mount=type=cache,id=s2,source=nope,target=/c true\n");
    try {
        build();
        ADD_FAILURE() << "the build must fail";
    } catch (const frontend::ParseError& e) {
        EXPECT_NE(e.diagnostic().message.find("\"nope\""), std::string::npos)
            << e.diagnostic().message;
        EXPECT_NE(e.diagnostic().message.find("not found"), std::string::npos)
            << e.diagnostic().message;
    }
}

}  // namespace
}  // namespace strata::buildtest
