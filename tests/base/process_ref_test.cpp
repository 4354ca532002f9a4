#include "base/process_ref.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

namespace strata {
namespace {

TEST(ProcessRef, NamesAProcessByPidAndStartTime) {
    const ProcessRef me = ProcessRef::self();
    EXPECT_TRUE(me.alive());
    EXPECT_GT(me.start_time(), 0u);
    // The same pid with another start time is another process.
    EXPECT_FALSE(ProcessRef(me.pid(), me.start_time() + 1).alive());
    EXPECT_FALSE(ProcessRef(me.pid(), me.start_time() + 1).signal(0));
    EXPECT_FALSE(ProcessRef::of(0).has_value());
}

TEST(ProcessRef, SignalsAndWaitsForAProcessThatIsNotAChild) {
    // A grandchild: the test waits for it through the pidfd, not waitpid.
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        const pid_t grandchild = ::fork();
        if (grandchild == 0) {
            ::pause();
            ::_exit(0);
        }
        (void)!::write(pipefd[1], &grandchild, sizeof grandchild);
        ::_exit(0);
    }
    pid_t gc = 0;
    ASSERT_EQ(::read(pipefd[0], &gc, sizeof gc), static_cast<ssize_t>(sizeof gc));
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    ::waitpid(child, nullptr, 0);
    auto ref = ProcessRef::of(gc);
    ASSERT_TRUE(ref);
    EXPECT_TRUE(ref->alive());
    EXPECT_FALSE(ref->wait_gone(std::chrono::milliseconds(50)));
    EXPECT_TRUE(ref->signal(SIGTERM));
    EXPECT_TRUE(ref->wait_gone(std::chrono::seconds(10)));
    EXPECT_FALSE(ref->alive());
    EXPECT_FALSE(ref->signal(SIGTERM));
}

}  // namespace
}  // namespace strata
