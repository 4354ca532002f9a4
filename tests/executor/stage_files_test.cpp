// StageFiles: a stage's directories handed to readers before its last layer
// is stored, and held where they are while a reader has them.
#include "executor/stage_files.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace strata::executor {
namespace {

using namespace std::chrono_literals;

TEST(StageFiles, AReaderWaitingForThePublicationGetsTheDirectories) {
    StageFiles f;
    EXPECT_FALSE(f.settled());
    auto reader = std::async(std::launch::async, [&] { return f.lease(); });
    // Until the stage publishes, the reader waits (it cannot have returned).
    EXPECT_EQ(reader.wait_for(50ms), std::future_status::timeout);
    f.publish({"/l/base", "/tmp/layer-run"});
    std::optional<LeasedDirs> got = reader.get();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->dirs, (std::vector<std::filesystem::path>{"/l/base", "/tmp/layer-run"}));
    EXPECT_TRUE(f.settled());
    EXPECT_FALSE(f.unread());
}

TEST(StageFiles, TheStageWaitsForEveryLeaseBeforeItMovesItsDirectories) {
    StageFiles f;
    f.publish({"/tmp/layer-run"});
    std::optional<LeasedDirs> first = f.lease();
    std::optional<LeasedDirs> second = f.lease();
    ASSERT_TRUE(first && second);
    std::shared_ptr<void> copy = first->lease;  // a copy holds it too
    first.reset();
    std::atomic<bool> closed{false};
    std::thread stage([&] {
        f.close_when_unread();
        closed = true;
    });
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(closed) << "two leases still held";
    second.reset();
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(closed) << "a copy of the first lease still held";
    copy.reset();
    stage.join();
    EXPECT_TRUE(closed);
    EXPECT_TRUE(f.unread());
    EXPECT_FALSE(f.lease()) << "after the move, readers use the stage's result";
}

TEST(StageFiles, AReaderWaitingWhenTheStagePublishesGetsItsLeaseBeforeTheStageCloses) {
    // The stage closes right after it publishes: a reader that was waiting
    // must not lose the race and find it closed. Many times, for the race.
    for (int round = 0; round < 50; ++round) {
        StageFiles f;
        auto reader = std::async(std::launch::async, [&] { return f.lease().has_value(); });
        while (f.unread())  // until the reader is inside lease(), waiting
            std::this_thread::sleep_for(1ms);
        f.publish({"/tmp/layer-run"});
        f.close_when_unread();
        EXPECT_TRUE(reader.get()) << "round " << round;
    }
}

TEST(StageFiles, AStageThatEndsWithoutPublishingWakesItsReadersWithNothing) {
    StageFiles f;
    auto reader = std::async(std::launch::async, [&] { return f.lease(); });
    EXPECT_EQ(reader.wait_for(50ms), std::future_status::timeout);
    f.close();
    EXPECT_FALSE(reader.get());
    f.close();  // idempotent
    f.publish({"/too/late"});
    EXPECT_FALSE(f.lease()) << "a publication after the end is ignored";
}

}  // namespace
}  // namespace strata::executor
