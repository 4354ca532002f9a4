// WritePool: every task runs before drain() returns, the first error comes
// back to the caller, and a pool without threads runs tasks inline.
#include "executor/copy/write_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

namespace strata::executor {
namespace {

TEST(WritePool, RunsEverythingBeforeDrainReturns) {
    for (unsigned threads : {0u, 1u, 3u}) {
        WritePool pool(threads);
        std::atomic<int> done{0};
        for (int i = 0; i < 2000; ++i)
            pool.submit([&] { ++done; });
        pool.drain();
        EXPECT_EQ(done.load(), 2000) << threads;
        pool.submit([&] { ++done; });  // usable again after a drain
        pool.drain();
        EXPECT_EQ(done.load(), 2001);
    }
}

TEST(WritePool, InlineWithoutThreads) {
    WritePool pool(0);
    const auto caller = std::this_thread::get_id();
    std::thread::id ran;
    pool.submit([&] { ran = std::this_thread::get_id(); });
    EXPECT_EQ(ran, caller);
    EXPECT_THROW(pool.submit([] { throw std::runtime_error("inline"); }), std::runtime_error);
}

TEST(WritePool, FirstErrorIsRethrownAndTheRestIsDropped) {
    WritePool pool(2);
    std::atomic<int> done{0};
    pool.submit([] { throw std::runtime_error("disk full"); });
    // The failure is seen by the first submit after a worker ran the task;
    // a worker preempted in between (a loaded CI machine) lets thousands more
    // through: far fewer than this many.
    constexpr int kMany = 1'000'000;
    try {
        for (int i = 0; i < kMany; ++i)
            pool.submit([&] { ++done; });
        pool.drain();
        FAIL() << "the error must come back";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "disk full");
    }
    pool.drain();  // reported once; the pool is clean again
    EXPECT_LT(done.load(), kMany) << "queued work after the failure was dropped";
}

}  // namespace
}  // namespace strata::executor
