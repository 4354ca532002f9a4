// A COPY, ADD or WORKDIR step right before a RUN makes its layer's
// directory, and the RUN's container starts over that directory while the
// layer's tar is written and synced on another thread (stage_runner.cpp,
// made_before_run). What each RUN was given is seen through the fake
// executor (fake_run.hpp), so nothing here is timed.
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "build_fixture.hpp"
#include "fake_run.hpp"

namespace strata::buildtest {
namespace {

const char* kCopyRun =
    "FROM base:latest\n"
    "COPY a.txt /a.txt\n"
    "RUN echo one\n";

// A RunExecutor whose every step fails as `RUN echo one` exiting 1 would.
struct FailingRun final : executor::RunExecutor {
    void run(const executor::RunRequest&) override {
        throw executor::RunFailed("process \"/bin/sh -c echo one\" exited with code 1", 1, "");
    }
};

// A context file with a time that has nanoseconds.
void set_mtime(const fs::path& p, time_t sec, long nsec) {
    const struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, 0), 0);
}

struct timespec mtime_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mtim;
}

TEST_F(BuildTest, ACopyBeforeARunIsMountedAsTheDirectoryItMadeAndStoredAfterIt) {
    FakeRun fake(std::chrono::milliseconds(0));
    run_ = &fake;
    file("a.txt", "a");
    set_mtime(ctx() / "a.txt", 1500000000, 123456789);
    const auto r = build(kCopyRun);
    const auto reqs = fake.requests();
    ASSERT_EQ(reqs.size(), 1u);
    // The base from layers/, the COPY's directory where the COPY made it:
    // not yet a layer (its tar was still being written).
    const auto& lowers = reqs[0].lower_layers;
    ASSERT_EQ(lowers.size(), 2u);
    EXPECT_EQ(lowers[0].parent_path(), root() / "layers");
    EXPECT_EQ(lowers[1].parent_path(), root() / "tmp");
    EXPECT_TRUE(fake.dirs_ok()) << "every directory existed while the step ran";

    ASSERT_EQ(r.image.layers.size(), 3u);
    expect_file(layer(r, 1), "/a.txt", "a");
    expect_file(layer(r, 2), "/ran-one", "echo one");
    EXPECT_TRUE(imagetest::tmp_is_empty(root()));

    // The directory became layers/<diffID>, with the file's time as the tar
    // keeps it (whole seconds): what unpacking the blob gives, so a RUN
    // sees the same whichever of the two it mounts.
    const fs::path copied = root() / "layers" / r.image.layers[1].diff_id.hex / "a.txt";
    const struct timespec t = mtime_of(copied);
    EXPECT_EQ(t.tv_sec, 1500000000);
    EXPECT_EQ(t.tv_nsec, 0);

    // Both steps have their cache entries.
    EXPECT_EQ(outcomes(build(request())), "CC");
    EXPECT_EQ(fake.requests().size(), 1u);
}

// Rebuilt with the same inputs while its layer is unpacked (--no-cache):
// the COPY's tar is compared with the stored blob and the RUN mounts the
// directory in layers/, instead of a new one thrown away afterwards.
TEST_F(BuildTest, ACopyRebuiltWithItsLayerUnpackedGoesStraightToItsTar) {
    FakeRun fake(std::chrono::milliseconds(0));
    run_ = &fake;
    file("a.txt", "a");
    const auto first = build(kCopyRun);
    executor::BuildRequest again = request();
    again.plan.no_cache = true;
    const auto second = build(again);
    EXPECT_EQ(outcomes(second), "BB");
    const auto reqs = fake.requests();
    ASSERT_EQ(reqs.size(), 2u);
    ASSERT_EQ(reqs[1].lower_layers.size(), 2u);
    EXPECT_EQ(reqs[1].lower_layers[1], root() / "layers" / first.image.layers[1].diff_id.hex);
    EXPECT_EQ(second.image.layers[1].diff_id, first.image.layers[1].diff_id);
    EXPECT_TRUE(imagetest::tmp_is_empty(root()));
}

// A file that changed makes a new directory again; the unchanged ones are
// linked from the last build's layer rather than copied.
TEST_F(BuildTest, ACopyBeforeARunLinksTheFilesThatDidNotChange) {
    FakeRun fake(std::chrono::milliseconds(0));
    run_ = &fake;
    file("src/same.txt", "same");
    file("src/edit.txt", "one");
    set_mtime(ctx() / "src/same.txt", 1500000000, 987654321);
    const char* df = "FROM base:latest\nCOPY src /src\nRUN echo one\n";
    const auto first = build(df);
    file("src/edit.txt", "two");
    const auto second = build(request());
    EXPECT_EQ(outcomes(second), "BB");
    ASSERT_EQ(fake.requests().size(), 2u);
    EXPECT_EQ(fake.requests()[1].lower_layers[1].parent_path(), root() / "tmp");
    expect_file(rootfs(second), "/src/edit.txt", "two");
    expect_file(rootfs(second), "/src/same.txt", "same");
    struct stat a {
    }, b{};
    const fs::path before = root() / "layers" / first.image.layers[1].diff_id.hex;
    const fs::path after = root() / "layers" / second.image.layers[1].diff_id.hex;
    ASSERT_EQ(::lstat((before / "src/same.txt").c_str(), &a), 0);
    ASSERT_EQ(::lstat((after / "src/same.txt").c_str(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino) << "linked from the last build's layer";
    ASSERT_EQ(::lstat((after / "src/edit.txt").c_str(), &b), 0);
    EXPECT_EQ(b.st_nlink, 1u);
}

// The RUN fails: the COPY before it keeps its layer and cache entry, and a
// retry runs only the RUN.
TEST_F(BuildTest, WhenTheRunAfterACopyFailsTheCopyKeepsItsLayer) {
    FailingRun failing;
    run_ = &failing;
    file("a.txt", "a");
    EXPECT_THROW(build(kCopyRun), frontend::ParseError);
    EXPECT_TRUE(imagetest::tmp_is_empty(root()));

    FakeRun fake(std::chrono::milliseconds(0));
    run_ = &fake;
    const auto r = build(request());
    EXPECT_EQ(outcomes(r), "CB");
    ASSERT_EQ(fake.requests().size(), 1u);
    EXPECT_EQ(fake.requests()[0].lower_layers[1].parent_path(), root() / "layers");
    expect_file(rootfs(r), "/a.txt", "a");
}

// WORKDIR too. A COPY whose next filesystem step is another COPY goes
// straight to its tar, and so does one while a RUN's layer is pending (one
// pending layer at most): those are in layers/ when the next RUN starts.
TEST_F(BuildTest, AWorkdirBeforeARunIsMadeTheSameWayButNotACopyBeforeACopy) {
    FakeRun fake(std::chrono::milliseconds(0));
    run_ = &fake;
    file("a.txt", "a");
    const auto first = build(
        "FROM base:latest\n"
        "WORKDIR /w\n"
        "RUN echo one\n"
        "COPY a.txt /a.txt\n"
        "RUN echo two\n");
    auto reqs = fake.requests();
    ASSERT_EQ(reqs.size(), 2u);
    ASSERT_EQ(reqs[0].lower_layers.size(), 2u);
    EXPECT_EQ(reqs[0].lower_layers[1].parent_path(), root() / "tmp") << "the WORKDIR's directory";
    // RUN one's layer was pending when the COPY ran: it went behind it.
    const auto& two = reqs[1].lower_layers;
    ASSERT_EQ(two.size(), 4u);
    EXPECT_EQ(two[1].parent_path(), root() / "layers");
    EXPECT_EQ(two[2], reqs[0].upper_dir);
    EXPECT_EQ(two[3].parent_path(), root() / "layers");
    ASSERT_EQ(first.image.layers.size(), 5u);
    EXPECT_TRUE(layer(first, 1).count("/w"));
    expect_file(layer(first, 2), "/ran-one", "echo one");
    expect_file(layer(first, 3), "/a.txt", "a");
    EXPECT_EQ(mtime_of(root() / "layers" / first.image.layers[1].diff_id.hex / "w").tv_nsec, 0)
        << "whole seconds, as in the tar";

    // The first COPY has a COPY next, the second a RUN.
    const auto second = build(
        "FROM base:latest\n"
        "COPY a.txt /b.txt\n"
        "ENV X=1\n"
        "COPY a.txt /c.txt\n"
        "RUN echo three\n");
    reqs = fake.requests();
    ASSERT_EQ(reqs.size(), 3u);
    const auto& three = reqs[2].lower_layers;
    ASSERT_EQ(three.size(), 3u);
    EXPECT_EQ(three[1].parent_path(), root() / "layers");
    EXPECT_EQ(three[2].parent_path(), root() / "tmp");
    ASSERT_EQ(second.image.layers.size(), 4u);
    expect_file(layer(second, 1), "/b.txt", "a");
    expect_file(layer(second, 2), "/c.txt", "a");
    expect_file(layer(second, 3), "/ran-three", "echo three");
    EXPECT_TRUE(imagetest::tmp_is_empty(root()));
}

// While a RUN's command runs and a later RUN follows in the stage, the next
// RUN's upper and work directories are made on the pool (stage_runner.cpp,
// make_run_dirs_ahead): the second step is given the directory that was
// there while the first ran. (A bounded wait for it, not a timing.)
TEST_F(BuildTest, TheNextRunsDirectoriesAreMadeWhileARunRuns) {
    struct SeesTheNext final : executor::RunExecutor {
        fs::path tmp;
        std::vector<fs::path> uppers, seen_during_first;
        void run(const executor::RunRequest& r) override {
            uppers.push_back(r.upper_dir);
            if (uppers.size() == 1) {
                const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
                while (seen_during_first.empty() && std::chrono::steady_clock::now() < deadline) {
                    for (const auto& e : fs::directory_iterator(tmp))
                        if (e.path().filename().string().rfind("layer-", 0) == 0 &&
                            e.path() != r.upper_dir && fs::is_empty(e.path()))
                            seen_during_first.push_back(e.path());
                    if (seen_during_first.empty())
                        std::this_thread::sleep_for(std::chrono::milliseconds(2));
                }
            }
            std::ofstream(r.upper_dir / ("ran-" + std::to_string(uppers.size()))) << "x";
        }
    } run;
    run.tmp = root() / "tmp";
    run_ = &run;
    const auto r = build("FROM base:latest\nRUN echo one\nRUN echo two\nRUN echo three\n");
    ASSERT_EQ(run.uppers.size(), 3u);
    ASSERT_EQ(run.seen_during_first.size(), 1u) << "made while the first RUN ran";
    EXPECT_EQ(run.uppers[1], run.seen_during_first[0]);
    EXPECT_NE(run.uppers[1], run.uppers[2]);
    expect_file(rootfs(r), "/ran-3", "x");
    EXPECT_TRUE(imagetest::tmp_is_empty(root()));
}

// A RUN that fails with a later RUN in its stage: the directories made for
// that one go with the build.
TEST_F(BuildTest, AFailedRunLeavesNoDirectoriesMadeForTheNext) {
    FailingRun failing;
    run_ = &failing;
    EXPECT_THROW(build("FROM base:latest\nRUN echo one\nRUN echo two\n"), frontend::ParseError);
    EXPECT_TRUE(imagetest::tmp_is_empty(root()));
}

}  // namespace
}  // namespace strata::buildtest
