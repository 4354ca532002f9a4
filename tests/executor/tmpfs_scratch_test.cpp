// Where a direct COPY makes its scratch tree (direct_copy_scratch): a
// private directory on /dev/shm named for this process, and the one a
// killed strata left there (its tree is in memory until reboot) removed by
// the next process that makes its own.
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/magic.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "base/owner_name.hpp"
#include "base/process_ref.hpp"
#include "base/temp_dir.hpp"
#include "executor/copy/copy.hpp"

namespace strata::executor {
namespace {

namespace fs = std::filesystem;

TEST(TmpfsScratch, NamedForThisProcessAndALeftoverOfAGoneOneIsRemoved) {
    struct statfs st {};
    if (::statfs("/dev/shm", &st) != 0 || st.f_type != TMPFS_MAGIC)
        GTEST_SKIP() << "/dev/shm is not a tmpfs here: the store's tmp/ is used instead";
    // What a strata killed during a COPY leaves: its directory, with a tree.
    const pid_t child = ::fork();
    if (child == 0) {
        ::pause();
        _exit(0);
    }
    const uint64_t start = process_start_time(child).value_or(0);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    const fs::path left = fs::path("/dev/shm") / ("strata-copy-" + std::to_string(child) + "-" +
                                                  std::to_string(start) + "-Killed");
    fs::create_directories(left / "layer-x" / "usr" / "share");
    std::ofstream(left / "layer-x" / "usr" / "f") << "x";
    ::chmod(left.c_str(), 0700);

    TempDir store_tmp = TempDir::create(fs::temp_directory_path(), "tmpfs-scratch-test-");
    const fs::path scratch = direct_copy_scratch(store_tmp.path());
    const bool fell_back = scratch == store_tmp.path();  // tmpfs without user xattrs
    EXPECT_FALSE(fs::exists(left));
    if (fs::exists(left)) fs::remove_all(left);
    if (fell_back) GTEST_SKIP() << "this tmpfs takes no user xattrs: the store's tmp/ is used";
    EXPECT_EQ(scratch.parent_path(), "/dev/shm");
    const auto owner = parse_owner_name(scratch.filename().string(), "strata-copy-");
    ASSERT_TRUE(owner) << scratch;
    EXPECT_EQ(owner->pid, ::getpid());
    EXPECT_FALSE(owner_gone(*owner));
}

}  // namespace
}  // namespace strata::executor
