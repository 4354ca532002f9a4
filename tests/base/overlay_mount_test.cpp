// The overlay strata makes for a RUN step's root while strata-init starts: a
// detached mount (make_detached_overlay) sent over a unix socket (send_fd)
// and attached by another process in a mount namespace of its own — with
// its layers in order, writes in the upper directory, and `volatile`.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "base/fd_passing.hpp"
#include "base/overlay_mount.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"

namespace strata {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(FdPassing, NoneIsTheByteAlone) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    UniqueFd a(sv[0]), b(sv[1]);
    ASSERT_TRUE(send_fd(a.get(), -1));
    errno = EBADF;
    EXPECT_EQ(receive_fd(b.get()), -1);
    EXPECT_EQ(errno, 0);
    a.reset();  // closed without sending: also none
    EXPECT_EQ(receive_fd(b.get()), -1);
    EXPECT_EQ(errno, 0);
}

TEST(OverlayMount, ADetachedOverlaySentToAnotherNamespaceIsTheMergedTree) {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting needs root";
    auto tmp = TempDir::create(fs::temp_directory_path(), "strata-overlay-");
    const fs::path top = tmp.path() / "top", bottom = tmp.path() / "bottom",
                   upper = tmp.path() / "upper", work = tmp.path() / "work",
                   target = tmp.path() / "target";
    for (const auto& d : {top, bottom, upper, work, target})
        fs::create_directories(d);
    std::ofstream(top / "a") << "top";
    std::ofstream(bottom / "a") << "bottom";
    std::ofstream(bottom / "b") << "only below";

    OverlaySpec o;
    o.lowers = {top.string(), bottom.string()};
    o.upper = upper.string();
    o.work = work.string();
    o.scratch_upper = true;
    UniqueFd made(make_detached_overlay(o));
    if (!made && errno == EINVAL) GTEST_SKIP() << "this kernel has no \"lowerdir+\" (before 6.8)";
    ASSERT_TRUE(made) << std::strerror(errno);

    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    UniqueFd mine(sv[0]), theirs(sv[1]);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // A namespace of its own, as strata-init's: the mount lands there only.
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            _exit(2);
        const int fd = receive_fd(theirs.get());
        if (fd < 0) _exit(3);
        if (::syscall(SYS_move_mount, fd, "", AT_FDCWD, target.c_str(),
                      4 /* MOVE_MOUNT_F_EMPTY_PATH */) != 0)
            _exit(4);
        if (read_text(target / "a") != "top" || read_text(target / "b") != "only below") _exit(5);
        std::ofstream(target / "new") << "written";
        const std::string mounts = read_text("/proc/self/mountinfo");
        const size_t at = mounts.find(" " + target.string() + " ");
        if (at == std::string::npos) _exit(6);
        const std::string line = mounts.substr(at, mounts.find('\n', at) - at);
        if (line.find("volatile") == std::string::npos) _exit(7);
        _exit(0);
    }
    ASSERT_TRUE(send_fd(mine.get(), made.get()));
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0)
        << "2: namespace, 3: no descriptor, 4: move_mount, 5: merged view, 6/7: mountinfo";
    EXPECT_EQ(read_text(upper / "new"), "written") << "writes land in the upper directory";
    EXPECT_FALSE(fs::exists(target / "a")) << "nothing was mounted in this namespace";
}

}  // namespace
}  // namespace strata
