// Descriptors over a unix socket (base/fd_passing.hpp): one, none, several
// in one message, more than the receiver takes, the other end gone.
#include "base/fd_passing.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/unique_fd.hpp"

namespace strata {
namespace {

struct Pair {
    UniqueFd a, b;
    Pair() {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) std::abort();
        a.reset(sv[0]);
        b.reset(sv[1]);
    }
};

ino_t inode_of(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

int open_descriptors() {
    int n = 0;
    for (int fd = 0; fd < 1024; ++fd)
        n += ::fcntl(fd, F_GETFD) >= 0;
    return n;
}

TEST(FdPassing, OneDescriptorOrNone) {
    Pair p;
    UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(send_fd(p.a.get(), null.get()));
    UniqueFd got(receive_fd(p.b.get()));
    ASSERT_GE(got.get(), 0);
    EXPECT_EQ(inode_of(got.get()), inode_of(null.get()));
    EXPECT_EQ(::fcntl(got.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    ASSERT_TRUE(send_fd(p.a.get(), -1));
    errno = EINVAL;
    EXPECT_EQ(receive_fd(p.b.get()), -1);
    EXPECT_EQ(errno, 0);
    p.a.reset();
    EXPECT_EQ(receive_fd(p.b.get()), -1);
    EXPECT_EQ(errno, 0);  // the other end closed first
}

TEST(FdPassing, SeveralDescriptorsAndBytesInOneMessage) {
    Pair p;
    UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    UniqueFd root(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    const int sent[] = {null.get(), root.get(), null.get()};
    const std::string text = "three of them";
    ASSERT_TRUE(send_message(p.a.get(), text.data(), text.size(), sent, 3));
    char buf[64] = {};
    int fds[8];
    size_t n = 0;
    EXPECT_EQ(receive_message(p.b.get(), buf, sizeof buf, fds, 8, &n),
              static_cast<ssize_t>(text.size()));
    EXPECT_EQ(std::string(buf), text);
    ASSERT_EQ(n, 3u);
    EXPECT_EQ(inode_of(fds[0]), inode_of(null.get()));
    EXPECT_EQ(inode_of(fds[1]), inode_of(root.get()));
    EXPECT_EQ(inode_of(fds[2]), inode_of(null.get()));
    for (size_t i = 0; i < n; ++i)
        ::close(fds[i]);
}

TEST(FdPassing, MoreThanTheReceiverTakesIsRefusedAndNothingLeaks) {
    Pair p;
    UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const std::vector<int> sent(5, null.get());
    const char byte = 'x';
    const int before = open_descriptors();
    ASSERT_TRUE(send_message(p.a.get(), &byte, 1, sent.data(), sent.size()));
    char got = 0;
    int fds[2];
    size_t n = 7;
    errno = 0;
    EXPECT_EQ(receive_message(p.b.get(), &got, 1, fds, 2, &n), -1);
    EXPECT_EQ(errno, EMSGSIZE);
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(open_descriptors(), before);
    // A longer message than the buffer is refused too.
    const std::string text = "longer than one byte";
    ASSERT_TRUE(send_message(p.a.get(), text.data(), text.size(), nullptr, 0));
    EXPECT_EQ(receive_message(p.b.get(), &got, 1, fds, 2, &n), -1);
    EXPECT_EQ(errno, EMSGSIZE);
    // More than one message can carry is not sent.
    const std::vector<int> too_many(kMaxPassedFds + 1, null.get());
    EXPECT_FALSE(send_message(p.a.get(), &byte, 1, too_many.data(), too_many.size()));
    EXPECT_EQ(errno, EINVAL);
}

}  // namespace
}  // namespace strata
