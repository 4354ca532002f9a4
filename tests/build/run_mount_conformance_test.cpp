// RUN --mount as BuildKit runs it, for real (root, busybox): a tmpfs gets
// the size= it asks for, in go-units' spellings and from a variable; with
// --no-cache a cache mount starts from an empty directory that the rest of
// the build shares and later builds keep.
#include <gtest/gtest.h>

#include "build_fixture.hpp"

namespace strata::buildtest {
namespace {

class RunMountConformance : public RunBuildTest {
  public:
    void SetUp() override {
        RunBuildTest::SetUp();
        if (IsSkipped()) return;
        use_container_runner();
    }
};

TEST_F(RunMountConformance, TmpfsSizeIsApplied) {
    const Tree t = rootfs(
        build("FROM busybox:latest\nARG SZ=2m\n"
              "RUN --mount=type=tmpfs,target=/t1,size=1m grep ' /t1 ' /proc/mounts > /m1\n"
              "RUN --mount=type=tmpfs,target=/t2,size=$SZ grep ' /t2 ' /proc/mounts > /m2\n"
              "RUN --mount=type=tmpfs,target=/t3,size=1GiB grep ' /t3 ' /proc/mounts > /m3\n"
              "RUN --mount=type=tmpfs,target=/t4,size=65536 grep ' /t4 ' /proc/mounts > /m4\n"));
    EXPECT_NE(t.at("/m1").data.find("size=1024k"), std::string::npos) << t.at("/m1").data;
    EXPECT_NE(t.at("/m2").data.find("size=2048k"), std::string::npos) << t.at("/m2").data;
    EXPECT_NE(t.at("/m3").data.find("size=1048576k"), std::string::npos) << t.at("/m3").data;
    EXPECT_NE(t.at("/m4").data.find("size=64k"), std::string::npos) << t.at("/m4").data;
}

TEST_F(RunMountConformance, TmpfsSizeLimitsWrites) {
    dockerfile(
        "FROM busybox:latest\n"
        "RUN --mount=type=tmpfs,target=/t,size=1m "
        "(dd if=/dev/zero of=/t/big bs=1024 count=2048 2>/dev/null && echo fit || echo full) "
        "> /r\n");
    EXPECT_EQ(rootfs(build()).at("/r").data, "full\n");
}

TEST_F(RunMountConformance, NoCacheEmptiesCacheMountsOncePerBuild) {
    const std::string df =
        "FROM busybox:latest\n"
        "RUN --mount=type=cache,target=/c,id=nc echo run >> /c/log && wc -l < /c/log > /first\n"
        "RUN --mount=type=cache,target=/c2,id=nc wc -l < /c2/log > /second\n"
        "RUN --mount=type=cache,target=/c,id=other,mode=0700 "
        "echo x >> /c/log && wc -l < /c/log > /third\n";
    Tree t = rootfs(build(df));
    EXPECT_EQ(t.at("/first").data, "1\n");
    EXPECT_EQ(t.at("/second").data, "1\n") << "the same id is the same directory";

    // Without --no-cache the steps are cache hits; force them and keep the
    // cache: it grows.
    executor::BuildRequest req = request(df + "RUN true\n");
    req.plan.no_cache = true;
    t = rootfs(build(req));
    EXPECT_EQ(t.at("/first").data, "1\n") << "--no-cache starts the cache mount empty";
    EXPECT_EQ(t.at("/second").data, "1\n") << "later steps of the build share the fresh one";
    EXPECT_EQ(t.at("/third").data, "1\n") << "with mode= too (BuildKit #5305)";

    // What that build wrote is the cache for the next one.
    t = rootfs(build(
        "FROM busybox:latest\n"
        "RUN --mount=type=cache,target=/c,id=nc echo again >> /c/log && wc -l < /c/log > /n\n"));
    EXPECT_EQ(t.at("/n").data, "2\n");
}

}  // namespace
}  // namespace strata::buildtest
