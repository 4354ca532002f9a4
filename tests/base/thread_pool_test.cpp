// ThreadPool/TaskGroup: every task runs before wait() returns, with any
// number of threads including none; the first error comes back after the
// running tasks ended; groups nest without deadlock on a pool of one thread;
// max_parallel, max_queued and lifo hold; STRATA_THREADS is read and checked.
#include "base/thread_pool.hpp"

#include "base/cores.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "base/error.hpp"

namespace strata {
namespace {

using namespace std::chrono_literals;

TEST(ThreadPool, RunsEveryTaskBeforeWaitReturns) {
    for (unsigned threads : {0u, 1u, 3u}) {
        ThreadPool pool(threads);
        TaskGroup group({}, pool);
        std::atomic<int> done{0};
        for (int i = 0; i < 5000; ++i)
            group.submit([&] { ++done; });
        group.wait();
        EXPECT_EQ(done.load(), 5000) << threads;
        group.submit([&] { ++done; });  // usable again after a wait
        group.wait();
        EXPECT_EQ(done.load(), 5001) << threads;
    }
}

TEST(ThreadPool, TasksRunOnPoolThreadsToo) {
    ThreadPool pool(2);
    TaskGroup group({}, pool);
    const auto caller = std::this_thread::get_id();
    std::atomic<int> elsewhere{0};
    for (int i = 0; i < 50; ++i)
        group.submit([&] {
            std::this_thread::sleep_for(1ms);
            if (std::this_thread::get_id() != caller) ++elsewhere;
        });
    group.wait();
    EXPECT_GT(elsewhere.load(), 0);
}

TEST(ThreadPool, WorkersBlockSignals) {
    // A signal sent to the process must reach the thread that handles it.
    ThreadPool pool(1);
    TaskGroup group({}, pool);
    bool blocked = false;
    std::thread::id ran;
    std::atomic<bool> finished{false};
    group.submit([&] {
        sigset_t mask;
        ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
        blocked = sigismember(&mask, SIGINT) && sigismember(&mask, SIGTERM) &&
                  sigismember(&mask, SIGCHLD);
        ran = std::this_thread::get_id();
        finished = true;
    });
    // Let the worker take it rather than running it here.
    for (int i = 0; i < 200 && !finished; ++i)
        std::this_thread::sleep_for(1ms);
    group.wait();
    if (ran == std::this_thread::get_id()) GTEST_SKIP() << "the task ran on the waiting thread";
    EXPECT_TRUE(blocked);
}

TEST(ThreadPool, TasksSubmitMoreTasksToTheirGroup) {
    for (unsigned threads : {0u, 2u}) {
        ThreadPool pool(threads);
        TaskGroup group({}, pool);
        std::atomic<int> done{0};
        std::function<void(int)> tree = [&](int depth) {
            ++done;
            if (depth == 0) return;
            for (int i = 0; i < 3; ++i)
                group.submit([&, depth] { tree(depth - 1); });
        };
        group.submit([&] { tree(6); });
        group.wait();
        EXPECT_EQ(done.load(), (729 * 3 - 1) / 2) << threads;  // 1 + 3 + ... + 3^6
    }
}

TEST(ThreadPool, FirstErrorComesBackAfterRunningTasksEndedAndTheRestIsDropped) {
    ThreadPool pool(2);
    TaskGroup group({}, pool);
    std::atomic<bool> slow_finished{false};
    std::atomic<int> done{0};
    group.submit([&] {
        std::this_thread::sleep_for(50ms);
        slow_finished = true;
    });
    group.submit([] { throw std::runtime_error("disk full"); });
    for (int i = 0; i < 10000; ++i)
        group.submit([&] {
            std::this_thread::sleep_for(10us);
            ++done;
        });
    try {
        group.wait();
        FAIL() << "the error must come back";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "disk full");
        EXPECT_TRUE(slow_finished.load()) << "rethrown while a task still ran";
    }
    EXPECT_FALSE(group.failed());
    EXPECT_LT(done.load(), 10000) << "queued work after the failure was dropped";
    group.wait();  // reported once; the group is clean again
    group.submit([&] { done = -1; });
    group.wait();
    EXPECT_EQ(done.load(), -1);
}

TEST(ThreadPool, NestedGroupsDoNotDeadlockOnOneThread) {
    for (unsigned threads : {0u, 1u}) {
        ThreadPool pool(threads);
        TaskGroup outer({}, pool);
        std::atomic<int> done{0};
        for (int i = 0; i < 8; ++i)
            outer.submit([&] {
                // Occupies the only worker, and waits for work of its own.
                TaskGroup inner({}, pool);
                for (int j = 0; j < 8; ++j)
                    inner.submit([&] { ++done; });
                inner.wait();
            });
        outer.wait();
        EXPECT_EQ(done.load(), 64) << threads;
    }
}

TEST(ThreadPool, MaxParallelOneIsAStrandInSubmissionOrder) {
    ThreadPool pool(4);
    TaskGroup strand({.max_parallel = 1}, pool);
    std::vector<int> order;
    std::atomic<int> inside{0};
    std::atomic<bool> overlapped{false};
    for (int i = 0; i < 500; ++i)
        strand.submit([&, i] {
            if (++inside > 1) overlapped = true;
            order.push_back(i);
            --inside;
        });
    strand.wait();
    EXPECT_FALSE(overlapped.load());
    ASSERT_EQ(order.size(), 500u);
    for (int i = 0; i < 500; ++i)
        EXPECT_EQ(order[static_cast<size_t>(i)], i);
}

TEST(ThreadPool, MaxParallelBoundsConcurrency) {
    ThreadPool pool(4);
    TaskGroup group({.max_parallel = 2}, pool);
    std::atomic<int> inside{0}, most{0};
    for (int i = 0; i < 100; ++i)
        group.submit([&] {
            int now = ++inside;
            int seen = most.load();
            while (now > seen && !most.compare_exchange_weak(seen, now)) {
            }
            std::this_thread::sleep_for(200us);
            --inside;
        });
    group.wait();
    EXPECT_LE(most.load(), 2);
    EXPECT_GE(most.load(), 1);
}

TEST(ThreadPool, MaxQueuedRunsTasksOnTheSubmitter) {
    ThreadPool pool(0);  // nobody else: the submitter must make room itself
    TaskGroup group({.max_queued = 4}, pool);
    std::atomic<int> done{0};
    for (int i = 0; i < 100; ++i) {
        group.submit([&] { ++done; });
        EXPECT_GE(done.load(), i - 4);
    }
    group.wait();
    EXPECT_EQ(done.load(), 100);
}

TEST(ThreadPool, LifoTakesTheNewestFirst) {
    ThreadPool pool(0);
    TaskGroup group({.lifo = true}, pool);
    std::vector<int> order;
    for (int i = 0; i < 5; ++i)
        group.submit([&, i] { order.push_back(i); });
    group.wait();
    EXPECT_EQ(order, (std::vector<int>{4, 3, 2, 1, 0}));
}

TEST(ThreadPool, RunUntilStopsWhenDone) {
    ThreadPool pool(0);
    TaskGroup group({}, pool);
    int ran = 0;
    for (int i = 0; i < 10; ++i)
        group.submit([&] { ++ran; });
    group.run_until([&] { return ran == 3; });
    EXPECT_EQ(ran, 3);
    group.wait();
    EXPECT_EQ(ran, 10);
}

TEST(ThreadPool, DestructorDropsQueuedTasksAndWaitsForRunningOnes) {
    ThreadPool pool(1);
    std::atomic<bool> started{false}, finished{false};
    std::atomic<int> others{0};
    {
        TaskGroup group({}, pool);
        group.submit([&] {
            started = true;
            std::this_thread::sleep_for(50ms);
            finished = true;
        });
        while (!started)
            std::this_thread::yield();
        for (int i = 0; i < 100; ++i)
            group.submit([&] { ++others; });
    }
    EXPECT_TRUE(finished.load());
    EXPECT_EQ(others.load(), 0);
}

// A child forked while the shared pool's workers are busy and many groups
// wait for them (more than one block of a std::deque's worth): the child
// forgets the parent's ready list without allocating or freeing, and runs
// its own work; the parent's groups all run afterwards.
TEST(ThreadPool, AForkedChildForgetsTheParentsWaitingGroups) {
    ThreadPool& pool = ThreadPool::shared();
    std::atomic<bool> release{false};
    std::atomic<unsigned> blocked{0};
    TaskGroup blockers({}, pool);
    for (unsigned i = 0; i < pool.size(); ++i)
        blockers.submit([&] {
            ++blocked;
            while (!release)
                std::this_thread::sleep_for(1ms);
        });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (blocked < pool.size() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    ASSERT_EQ(blocked.load(), pool.size()) << "every worker holds a blocker";
    std::atomic<int> ran{0};
    std::vector<std::unique_ptr<TaskGroup>> waiting;
    for (int i = 0; i < 200; ++i) {
        waiting.push_back(std::make_unique<TaskGroup>(TaskGroupOptions{}, pool));
        waiting.back()->submit([&] { ++ran; });
    }

    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::alarm(20);  // a hang fails the test instead of stalling it
        int mine = 0;
        {
            TaskGroup g({}, ThreadPool::shared());
            for (int i = 0; i < 10; ++i)
                g.submit([&] { ++mine; });
            g.wait();
        }
        ::_exit(mine == 10 && ran.load() == 0 ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

    release = true;
    blockers.wait();
    for (auto& g : waiting)
        g->wait();
    EXPECT_EQ(ran.load(), 200);
}

TEST(ThreadPool, SizeFromStrataThreads) {
    const char* old = std::getenv("STRATA_THREADS");
    std::string saved = old ? old : "";
    ::setenv("STRATA_THREADS", "3", 1);
    EXPECT_EQ(thread_pool_size(), 3u);
    ::setenv("STRATA_THREADS", "0", 1);
    EXPECT_EQ(thread_pool_size(), 0u);
    for (const char* bad : {"x", "-1", "2x", "5000"}) {
        ::setenv("STRATA_THREADS", bad, 1);
        try {
            thread_pool_size();
            ADD_FAILURE() << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kUsage);
            EXPECT_NE(std::string(e.what()).find("STRATA_THREADS"), std::string::npos);
        }
    }
    ::unsetenv("STRATA_THREADS");
    EXPECT_EQ(thread_pool_size(), usable_cores()) << "one per core strata may run on";
    if (old) ::setenv("STRATA_THREADS", saved.c_str(), 1);
}

}  // namespace
}  // namespace strata
