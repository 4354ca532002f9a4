// Independent stages build at the same time, up to --jobs, and RUN steps
// reach the RunExecutor seam with what a container needs. A fake executor
// (fake_run.hpp) stands in for the container runtime, and can hold a step
// until another one is running too, which is how the test sees two stages
// at once without timing anything.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "base/cores.hpp"
#include "build_fixture.hpp"
#include "fake_run.hpp"

namespace strata::buildtest {
namespace {

const char* kTwoStages =
    "FROM base:latest AS a\n"
    "RUN echo one\n"
    "FROM base:latest AS b\n"
    "ENV WHO=b\n"
    "RUN echo two\n"
    "FROM scratch\n"
    "COPY --from=a /ran-one /a\n"
    "COPY --from=b /ran-two /b\n";

TEST_F(BuildTest, IndependentStagesRunAtTheSameTime) {
    FakeRun fake(std::chrono::seconds(10));
    run_ = &fake;
    executor::BuildRequest req = request(kTwoStages);
    req.jobs = 2;
    auto r = build(req);
    EXPECT_EQ(fake.max_in_flight(), 2) << "stages a and b overlapped";
    const Tree t = rootfs(r);
    expect_file(t, "/a", "echo one");
    expect_file(t, "/b", "echo two");
}

TEST_F(BuildTest, JobsOneBuildsOneStageAtATime) {
    FakeRun fake(std::chrono::milliseconds(300));
    run_ = &fake;
    executor::BuildRequest req = request(kTwoStages);
    req.jobs = 1;
    build(req);
    EXPECT_EQ(fake.max_in_flight(), 1);
    EXPECT_EQ(fake.requests().size(), 2u);
}

TEST_F(BuildTest, TheDefaultJobsBuildIndependentStagesAtTheSameTime) {
    if (usable_cores() < 2)
        GTEST_SKIP() << "one usable core: --jobs' default (one stage per core) is one at a time";
    FakeRun fake(std::chrono::seconds(10));
    run_ = &fake;
    executor::BuildRequest req = request(kTwoStages);
    ASSERT_EQ(req.jobs, 0u) << "the default";
    build(req);
    EXPECT_EQ(fake.max_in_flight(), 2) << "stages a and b overlapped";
}

// A stage that reads another one (RUN --mount=from=, COPY --from) does not
// wait for that stage's last layer to be written and hashed: it reads the
// RUN's directory where it was made, and the layer is moved into the store
// once it is done.
TEST_F(BuildTest, AStageReadsAnotherStagesFilesBeforeTheirLayerIsStored) {
    // Stage a's RUN is held (up to 300 ms) for company that cannot come:
    // meanwhile stage b is waiting for a's files.
    FakeRun fake(std::chrono::milliseconds(300));
    std::mutex mu;
    std::vector<fs::path> mounted;
    bool saw_file = false;
    fake.during_run = [&](const executor::RunRequest& r) {
        std::lock_guard lock(mu);
        if (r.mounts.empty()) return;
        mounted = r.mounts.at(0).sources;
        saw_file = fs::exists(mounted.back() / "ran-one");
    };
    run_ = &fake;
    executor::BuildRequest req = request(
        "FROM base:latest AS a\n"
        "RUN echo one\n"
        "FROM base:latest\n"
        "RUN --mount=type=bind,from=a,target=/a echo two\n"
        "COPY --from=a /ran-one /one\n");
    req.jobs = 2;
    auto r = build(req);
    std::lock_guard lock(mu);
    ASSERT_FALSE(mounted.empty());
    EXPECT_TRUE(saw_file) << mounted.back();
    EXPECT_NE(mounted.back().parent_path(), root() / "layers")
        << "the RUN's own directory, not the stored layer";
    EXPECT_FALSE(fs::exists(mounted.back())) << "moved into the store after the reader was done";
    const Tree t = rootfs(r);
    expect_file(t, "/one", "echo one");
    expect_file(t, "/ran-two", "echo two");
}

TEST_F(BuildTest, RunStepGetsItsLayersCommandAndEnvironment) {
    FakeRun fake(std::chrono::milliseconds(0));
    run_ = &fake;
    file("a.txt", "a");
    auto r = build(
        "FROM base:latest\n"
        "COPY a.txt /a.txt\n"
        "ARG MODE=fast\n"
        "ENV LANG=C\n"
        "USER app\n"
        "WORKDIR /srv\n"
        "RUN --mount=type=bind,source=a.txt,target=/m echo go\n");
    const auto reqs = fake.requests();
    ASSERT_EQ(reqs.size(), 1u);
    const auto& q = reqs[0];
    const auto steps = fake.steps();
    const planner::RunStep* step = &steps.at(0);
    EXPECT_EQ(q.lower_layers.size(), 3u) << "base, COPY, WORKDIR";
    EXPECT_TRUE(fake.dirs_ok()) << "layers, an empty upper dir and a work dir";
    EXPECT_EQ(q.upper_dir.parent_path(), q.work_dir.parent_path()) << "same filesystem";
    EXPECT_EQ(step->argv, (std::vector<std::string>{"/bin/sh", "-c", "echo go"}));
    EXPECT_EQ(step->user, "app");
    EXPECT_EQ(step->workdir, "/srv");
    bool mode = false, lang = false;
    for (const auto& [k, v] : step->env) {
        mode = mode || (k == "MODE" && v == "fast");
        lang = lang || (k == "LANG" && v == "C");
    }
    std::string all;
    for (const auto& [k, v] : step->env)
        all += k + "=" + v + " ";
    EXPECT_TRUE(mode && lang) << "ARG and ENV values reach the command: " << all;
    ASSERT_EQ(q.mounts.size(), 1u);
    EXPECT_EQ(q.mounts[0].sources.at(0), ctx());
    EXPECT_EQ(q.mounts[0].subpath, "a.txt");
    // The upper directory became the step's layer.
    expect_file(rootfs(r), "/ran-go", "echo go");

    // Cached the second time: the runtime is not asked again.
    auto again = build(request());
    EXPECT_EQ(outcomes(again), "CCC");
    EXPECT_EQ(fake.requests().size(), 1u);
}

TEST_F(BuildTest, AFailingStageStopsTheBuildWithItsError) {
    struct Failing final : executor::RunExecutor {
        void run(const executor::RunRequest&) override {
            throw executor::RunFailed("process \"/bin/sh -c false\" exited with code 1", 1,
                                      "some output\nthe last line\n");
        }
    } failing;
    run_ = &failing;
    dockerfile("FROM base:latest AS a\nRUN false\nFROM scratch\nCOPY --from=a /x /x\n");
    try {
        build();
        FAIL() << "the build must fail";
    } catch (const frontend::ParseError& e) {
        EXPECT_EQ(e.diagnostic().pos.line, 2u);
        EXPECT_NE(e.diagnostic().message.find("exited with code 1"), std::string::npos);
        EXPECT_NE(e.diagnostic().hint.find("the last line"), std::string::npos);
    }
    EXPECT_TRUE(imagetest::tmp_is_empty(root()));
}

}  // namespace
}  // namespace strata::buildtest
