// A write to a pipe with no reader under SigpipeBlock: EPIPE, the process
// alive, no SIGPIPE left pending and the thread's mask as it was.
#include "base/sigpipe_block.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>

namespace strata {
namespace {

bool blocked(int sig) {
    sigset_t now;
    pthread_sigmask(SIG_SETMASK, nullptr, &now);
    return sigismember(&now, sig) == 1;
}

bool pending(int sig) {
    sigset_t set;
    sigpending(&set);
    return sigismember(&set, sig) == 1;
}

TEST(SigpipeBlock, AWriteWithoutAReaderIsEpipeAndLeavesNothingBehind) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    close(fds[0]);
    ASSERT_FALSE(blocked(SIGPIPE));
    {
        SigpipeBlock guard;
        EXPECT_TRUE(blocked(SIGPIPE));
        errno = 0;
        EXPECT_EQ(write(fds[1], "x", 1), -1);
        EXPECT_EQ(errno, EPIPE);
        EXPECT_TRUE(pending(SIGPIPE));
        guard.saw_epipe();
    }
    EXPECT_FALSE(pending(SIGPIPE));
    EXPECT_FALSE(blocked(SIGPIPE));
    close(fds[1]);
}

}  // namespace
}  // namespace strata
