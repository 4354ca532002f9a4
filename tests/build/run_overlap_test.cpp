// A RUN step's layer is written while the steps after it run: a COPY
// between two RUNs runs without waiting for the write, the next RUN mounts
// the directory its command left as a lower layer, and the image's layers
// still come out in step order. The fake executor (fake_run.hpp) sees what
// each RUN was given, so nothing here is timed.
#include <gtest/gtest.h>

#include "build_fixture.hpp"
#include "fake_run.hpp"

namespace strata::buildtest {
namespace {

const char* kRunCopyRun =
    "FROM base:latest\n"
    "RUN echo one\n"
    "COPY a.txt /a.txt\n"
    "WORKDIR /w\n"
    "RUN echo two\n";

TEST_F(BuildTest, StepsBetweenTwoRunsDoNotWaitForTheFirstOnesLayer) {
    FakeRun fake(std::chrono::milliseconds(0));
    run_ = &fake;
    file("a.txt", "a");
    const auto r = build(kRunCopyRun);
    const auto reqs = fake.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_TRUE(reqs[0].run_follows) << "a later RUN: its start may be made ahead";
    EXPECT_FALSE(reqs[1].run_follows) << "the last RUN of the stage";

    // base, RUN one, COPY, WORKDIR: RUN one's layer was not stored yet (the
    // COPY and the WORKDIR did not wait for it), so the second RUN mounts
    // the directory its command left; the layers after it are stored.
    const auto& lowers = reqs[1].lower_layers;
    ASSERT_EQ(lowers.size(), 4u);
    EXPECT_EQ(lowers[1], reqs[0].upper_dir);
    EXPECT_EQ(lowers[2].parent_path(), root() / "layers");
    EXPECT_EQ(lowers[3].parent_path(), root() / "layers");

    // In step order all the same.
    ASSERT_EQ(r.image.layers.size(), 5u);
    expect_file(layer(r, 1), "/ran-one", "echo one");
    expect_file(layer(r, 2), "/a.txt", "a");
    EXPECT_TRUE(layer(r, 3).count("/w")) << "the WORKDIR's layer";
    expect_file(layer(r, 4), "/ran-two", "echo two");
    expect_file(rootfs(r), "/a.txt", "a");
    EXPECT_TRUE(imagetest::tmp_is_empty(root()));

    // Each step has its cache entry: nothing runs again.
    EXPECT_EQ(outcomes(build(request())), "CCCC");
    EXPECT_EQ(fake.requests().size(), 2u);
}

TEST_F(BuildTest, WhenTheRunAfterACopyFailsTheStepsBeforeKeepTheirLayers) {
    struct FailsOnTwo final : executor::RunExecutor {
        FakeRun inner{std::chrono::milliseconds(0)};
        void run(const executor::RunRequest& r) override {
            if (r.step->argv.back() == "echo two")
                throw executor::RunFailed("process \"/bin/sh -c echo two\" exited with code 1", 1,
                                          "");
            inner.run(r);
        }
    } failing;
    run_ = &failing;
    file("a.txt", "a");
    try {
        build(kRunCopyRun);
        FAIL() << "the build must fail";
    } catch (const frontend::ParseError& e) {
        EXPECT_EQ(e.diagnostic().pos.line, 5u) << "the RUN that failed, not the one still written";
    }
    EXPECT_TRUE(imagetest::tmp_is_empty(root()));

    // A retry starts after the WORKDIR: RUN one, the COPY and the WORKDIR
    // kept their layers and cache entries.
    FakeRun fake(std::chrono::milliseconds(0));
    run_ = &fake;
    const auto r = build(request());
    EXPECT_EQ(outcomes(r), "CCCB");
    ASSERT_EQ(fake.requests().size(), 1u);
    expect_file(rootfs(r), "/ran-one", "echo one");
    expect_file(rootfs(r), "/ran-two", "echo two");
}

// A RUN with no RUN after it in the stage prepares nothing ahead; one with
// a RUN later does, whatever steps are between.
TEST_F(BuildTest, OnlyARunWithALaterRunPreparesAhead) {
    FakeRun fake(std::chrono::milliseconds(0));
    run_ = &fake;
    file("a.txt", "a");
    build(
        "FROM base:latest AS a\n"
        "RUN echo one\n"
        "ENV X=1\n"
        "COPY a.txt /a.txt\n"
        "RUN echo two\n"
        "COPY a.txt /b.txt\n"
        "FROM base:latest\n"
        "RUN echo three\n"
        "COPY --from=a /a.txt /a.txt\n");
    std::map<std::string, bool> follows;
    const auto reqs = fake.requests();
    const auto steps = fake.steps();
    ASSERT_EQ(reqs.size(), 3u);
    for (size_t i = 0; i < reqs.size(); ++i)
        follows[steps[i].argv.back()] = reqs[i].run_follows;
    EXPECT_TRUE(follows.at("echo one"));
    EXPECT_FALSE(follows.at("echo two"));
    EXPECT_FALSE(follows.at("echo three")) << "the next stage's RUN is not this stage's";
}

// The first step of a stage that runs for real, when it is not a RUN,
// announces the RUN after it (warm_up), so that its container's start is
// made while the step works; a RUN announces nothing (the RUNs after it are
// prepared while it runs), and a fully cached build nothing at all.
TEST_F(BuildTest, TheFirstRunAfterACopyIsWarmedUpWhileTheCopyWorks) {
    FakeRun fake(std::chrono::milliseconds(0));
    run_ = &fake;
    file("a.txt", "a");
    build(
        "FROM base:latest\n"
        "COPY a.txt /a.txt\n"
        "ENV X=1\n"
        "RUN echo one\n"
        "COPY a.txt /b.txt\n"
        "RUN echo two\n");
    EXPECT_EQ(fake.warm_ups(), std::vector<std::string>{"echo one"});
    EXPECT_EQ(fake.warm_up_scratch(), fake.requests().at(0).upper_dir.parent_path())
        << "where the step's upper directory is made";

    build(request());
    EXPECT_EQ(fake.warm_ups().size(), 1u) << "all cached: nothing runs, nothing announced";

    file("a.txt", "b");
    build(request());
    EXPECT_EQ(fake.warm_ups(), (std::vector<std::string>{"echo one", "echo one"}));

    FakeRun only_runs(std::chrono::milliseconds(0));
    run_ = &only_runs;
    build("FROM base:latest\nRUN echo three\nCOPY a.txt /c.txt\nRUN echo four\n");
    EXPECT_TRUE(only_runs.warm_ups().empty()) << "a RUN first: the next is prepared by it";

    // --no-cache: the first RUN is sure to run, and is announced before
    // anything else happens (while the context is hashed), once.
    FakeRun no_cache(std::chrono::milliseconds(0));
    run_ = &no_cache;
    executor::BuildRequest r = request();
    r.plan.no_cache = true;
    build(r);
    EXPECT_EQ(no_cache.warm_ups(), std::vector<std::string>{"echo three"});
}

}  // namespace
}  // namespace strata::buildtest
