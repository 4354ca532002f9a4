// probe_isolation_once_per_boot: a probe that found everything allowed is
// remembered for the boot, keyed so that another process that may be
// refused things (fewer capabilities, a seccomp filter, other namespaces)
// probes for itself.
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "base/temp_dir.hpp"
#include "sandbox/chroot_isolation.hpp"

namespace strata::sandbox {
namespace {

namespace fs = std::filesystem;

std::string boot_id() {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string line;
    std::getline(in, line);
    return line;
}

std::vector<fs::path> memo_files(const fs::path& dir) {
    std::vector<fs::path> out;
    if (fs::exists(dir))
        for (const auto& e : fs::directory_iterator(dir))
            out.push_back(e.path());
    return out;
}

class IsolationProbeMemo : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "the probe's namespaces and overlay need root";
        dir_.emplace(TempDir::create(fs::temp_directory_path(), "strata-probe-"));
        scratch_ = dir_->path() / "scratch";
        memo_ = dir_->path() / "memo";
        fs::create_directories(scratch_);
    }
    std::optional<TempDir> dir_;
    fs::path scratch_, memo_;
};

TEST_F(IsolationProbeMemo, ASuccessIsRememberedForTheBoot) {
    const IsolationProbe first = probe_isolation_once_per_boot(scratch_, memo_);
    ASSERT_TRUE(first.sandbox_ok()) << first.sandbox_refused;
    const auto files = memo_files(memo_);
    ASSERT_EQ(files.size(), 1u);
    std::ifstream in(files[0]);
    std::string content;
    std::getline(in, content);
    EXPECT_EQ(content, boot_id());
    EXPECT_EQ(fs::status(memo_).permissions() & fs::perms::all, fs::perms::owner_all);

    const IsolationProbe again = probe_isolation_once_per_boot(scratch_, memo_);
    EXPECT_TRUE(again.sandbox_ok());
    EXPECT_TRUE(again.allowed.mount_ns && again.allowed.pid_ns && again.allowed.net_ns);
    EXPECT_TRUE(fs::is_empty(scratch_)) << "the probe's directories are gone";

    // A memo of another boot does not count: the probe runs and rewrites it.
    std::ofstream(files[0]) << "another-boot\n";
    EXPECT_TRUE(probe_isolation_once_per_boot(scratch_, memo_).sandbox_ok());
    std::ifstream reread(files[0]);
    std::getline(reread, content);
    EXPECT_EQ(content, boot_id());
}

// A root process without CAP_SYS_ADMIN in the same namespaces is refused
// the mount namespace: it must not be answered by the memo of one that had it.
TEST_F(IsolationProbeMemo, FewerCapabilitiesProbeForThemselves) {
    ASSERT_TRUE(probe_isolation_once_per_boot(scratch_, memo_).sandbox_ok());
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(fds[0]);
        // Out of the bounding set and, with it, dropped from the effective
        // set at the next exec; here: drop it from the effective set itself.
        if (::prctl(PR_CAPBSET_DROP, 21 /* CAP_SYS_ADMIN */, 0, 0, 0) != 0) _exit(2);
        struct Header {
            uint32_t version;
            int pid;
        } header{0x20080522, 0};
        struct Data {
            uint32_t effective, permitted, inheritable;
        } data[2]{};
        if (::syscall(SYS_capget, &header, data) != 0) _exit(3);
        data[0].effective &= ~(1u << 21);
        if (::syscall(SYS_capset, &header, data) != 0) _exit(4);
        const IsolationProbe p = probe_isolation_once_per_boot(scratch_, memo_);
        const char verdict = p.sandbox_ok() ? 'y' : 'n';
        (void)!::write(fds[1], &verdict, 1);
        _exit(0);
    }
    ::close(fds[1]);
    char verdict = '?';
    (void)!::read(fds[0], &verdict, 1);
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_EQ(verdict, 'n') << "a process without CAP_SYS_ADMIN was told the sandbox works";
    EXPECT_EQ(memo_files(memo_).size(), 1u) << "a refusal is not remembered";
}

}  // namespace
}  // namespace strata::sandbox
