// The store directory is its owner's alone (Docker's CVE-2021-41091): a
// setuid-root binary or a 0666 file that an image puts into a layer must not
// be reachable by another local user through its store path.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

#include "base/error.hpp"
#include "store/image_fixture.hpp"
#include "store/image_store.hpp"
#include "store/layer_writer.hpp"
#include "store/store_root.hpp"

namespace strata::store {
namespace {

using namespace strata::imagetest;

constexpr uid_t kNobody = 65534;

// Runs `op` in a child that has become uid/gid 65534 with no supplementary
// groups; returns what `op` returned (an errno value, 0 for success).
int as_nobody(const std::function<int()>& op) {
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
            ::setresuid(kNobody, kNobody, kNobody) != 0)
            ::_exit(200);
        ::_exit(op());
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

int errno_of(bool ok) {
    return ok ? 0 : errno;
}

class StoreRootPerms : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
        work_.emplace(scratch("strata-perms-"));
        // Reachable by everyone up to the store itself, as /var/lib is.
        ASSERT_EQ(::chmod(work_->path().c_str(), 0755), 0);
        root_ = work_->path() / "store";
    }
    static unsigned mode_of(const fs::path& p) {
        struct stat st {};
        EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
        return st.st_mode & 07777;
    }

    std::optional<TempDir> work_;
    fs::path root_;
};

TEST_F(StoreRootPerms, LayerFilesAreOutOfReachOfOtherUsers) {
    fs::path su, shared;
    {
        ImageStore store(root_);
        EXPECT_EQ(mode_of(root_), 0700u);
        EXPECT_EQ(store.root_warning(), "");
        const std::string tar = TarBuilder()
                                    .dir("bin")
                                    .file("bin/su", "#!/bin/sh\nexit 42\n", 04755)
                                    .file("shared", "anyone may write me\n", 0666)
                                    .finish();
        auto dir = scratch();
        write_file(dir.path() / "l.tar", tar);
        auto blob = store_layer_tar(dir.path() / "l.tar", store.content(), StoreTarOptions{});
        const fs::path layer = store.layers().ensure_unpacked(blob.digest, blob.diff_id);
        su = layer / "bin" / "su";
        shared = layer / "shared";
    }
    struct stat st {};
    ASSERT_EQ(::stat(su.c_str(), &st), 0);
    ASSERT_EQ(st.st_mode & 07777, 04755u)
        << "the layer lost the setuid bit: the test proves nothing";
    ASSERT_EQ(st.st_uid, 0u);
    ASSERT_EQ(mode_of(shared), 0666u);

    auto probe = [&] {
        return std::vector<int>{
            as_nobody([&] {
                struct stat s {};
                return errno_of(::stat(su.c_str(), &s) == 0);
            }),
            as_nobody([&] { return errno_of(::open(shared.c_str(), O_RDWR | O_CLOEXEC) >= 0); }),
            as_nobody([&] {
                char* argv[] = {const_cast<char*>(su.c_str()), nullptr};
                char* envp[] = {nullptr};
                ::execve(su.c_str(), argv, envp);
                return errno;
            }),
        };
    };
    EXPECT_EQ(probe(), (std::vector<int>{EACCES, EACCES, EACCES}));

    // Control: with the old 0755 the same probes succeed (the exec runs the
    // setuid script: exit 42), so the check above can fail.
    ASSERT_EQ(::chmod(root_.c_str(), 0755), 0);
    EXPECT_EQ(probe(), (std::vector<int>{0, 0, 42}));

    // Opening the store again tightens it, with one warning line.
    ImageStore again(root_);
    EXPECT_EQ(mode_of(root_), 0700u);
    EXPECT_NE(again.root_warning().find("had mode 0755; changed to 0700"), std::string::npos)
        << again.root_warning();
    EXPECT_EQ(again.root_warning().find('\n'), std::string::npos);
    EXPECT_EQ(probe(), (std::vector<int>{EACCES, EACCES, EACCES}));
}

TEST_F(StoreRootPerms, AnOpenStoreOfAnotherUserIsRefused) {
    fs::create_directories(root_);
    ASSERT_EQ(::chmod(root_.c_str(), 0755), 0);
    ASSERT_EQ(::chown(root_.c_str(), kNobody, kNobody), 0);
    try {
        ImageStore store(root_);
        FAIL() << "a 0755 store of another user was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kUsage);
        const std::string m = e.what();
        EXPECT_NE(m.find(root_.string()), std::string::npos) << m;
        EXPECT_NE(m.find("uid 65534"), std::string::npos) << m;
        EXPECT_NE(m.find("chmod 700"), std::string::npos) << m;
    }
    EXPECT_EQ(mode_of(root_), 0755u) << "someone else's directory was changed";
    // Closed to others, it is fine (root may enter it).
    ASSERT_EQ(::chmod(root_.c_str(), 0700), 0);
    ImageStore store(root_);
    EXPECT_EQ(store.root_warning(), "");
}

TEST_F(StoreRootPerms, ANewStoreIs0700WhateverTheUmask) {
    const mode_t old = ::umask(0);
    const std::string warning = prepare_store_root(root_ / "a" / "b");
    ::umask(old);
    EXPECT_EQ(warning, "");
    EXPECT_EQ(mode_of(root_ / "a" / "b"), 0700u);
    // A symlinked store root: the directory it points at is what is checked.
    fs::create_directories(work_->path() / "real");
    ASSERT_EQ(::chmod((work_->path() / "real").c_str(), 0777), 0);
    fs::create_directory_symlink(work_->path() / "real", work_->path() / "link");
    EXPECT_NE(prepare_store_root(work_->path() / "link"), "");
    EXPECT_EQ(mode_of(work_->path() / "real"), 0700u);
    // Not a directory.
    write_file(work_->path() / "file", "x");
    EXPECT_THROW(prepare_store_root(work_->path() / "file"), Error);
}

TEST(StoreRootDefault, NonRootUsesXdgDataHomeElseLocalShare) {
    auto env = [](std::map<std::string, std::string> vars) {
        return [vars](const char* name) -> std::optional<std::string> {
            auto it = vars.find(name);
            if (it == vars.end()) return std::nullopt;
            return it->second;
        };
    };
    StoreRootInputs in;
    in.is_root = false;
    in.getenv = env({{"HOME", "/home/u"}});
    EXPECT_EQ(resolve_store_root(in), "/home/u/.local/share/strata");
    in.getenv = env({{"HOME", "/home/u"}, {"XDG_DATA_HOME", "/data/u"}});
    EXPECT_EQ(resolve_store_root(in), "/data/u/strata");
    in.is_root = true;
    EXPECT_EQ(resolve_store_root(in), "/var/lib/strata");
}

}  // namespace
}  // namespace strata::store
