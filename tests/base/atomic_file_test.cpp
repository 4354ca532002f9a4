// AtomicFile: the temp file's name and place, commit, abandon, the unsynced
// replace (names exchanged), and a target given without a directory (the
// temp file goes next to it, in the cwd).
#include "base/atomic_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "base/error.hpp"
#include "base/temp_dir.hpp"

namespace strata {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(AtomicFile, TempFileIsHiddenNextToTheTargetAndRenamedOnCommit) {
    auto dir = TempDir::create(fs::temp_directory_path(), "atomic-file-test-");
    const fs::path target = dir.path() / "config.json";
    {
        AtomicFile f(target, 0640);
        EXPECT_EQ(f.temp_path().parent_path(), dir.path());
        const std::string name = f.temp_path().filename().string();
        EXPECT_EQ(name.rfind(".config.json.tmp", 0), 0u) << name;
        EXPECT_EQ(name.size(), std::string(".config.json.tmpXXXXXX").size()) << name;
        f.write("new ");
        f.write("data");
        EXPECT_FALSE(fs::exists(target));
        f.commit();
        EXPECT_FALSE(fs::exists(f.temp_path()));
        EXPECT_THROW(f.commit(), Error);
    }
    EXPECT_EQ(read(target), "new data");
    struct stat st {};
    ASSERT_EQ(::stat(target.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(AtomicFile, WithoutCommitTheTargetIsUntouchedAndTheTempFileGone) {
    auto dir = TempDir::create(fs::temp_directory_path(), "atomic-file-test-");
    const fs::path target = dir.path() / "keep";
    write_file_atomic(target, "old");
    {
        AtomicFile f(target);
        f.write("half");
    }
    EXPECT_EQ(read(target), "old");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

// commit_unsynced over an existing file exchanges the names and removes the
// old file: the target is the new file (a new inode, the mode asked for), the
// old one is gone from the directory but still readable through an open fd.
TEST(AtomicFile, UnsyncedReplaceLeavesTheNewFileAndNothingElse) {
    auto dir = TempDir::create(fs::temp_directory_path(), "atomic-file-test-");
    const fs::path target = dir.path() / "entry";
    write_file_atomic(target, "old", 0600);
    struct stat before {};
    ASSERT_EQ(::stat(target.c_str(), &before), 0);
    const UniqueFd old_fd(::open(target.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(old_fd);
    write_file_atomic_unsynced(target, "new", 0644);
    EXPECT_EQ(read(target), "new");
    struct stat after {};
    ASSERT_EQ(::stat(target.c_str(), &after), 0);
    EXPECT_NE(after.st_ino, before.st_ino);
    EXPECT_EQ(after.st_mode & 07777, 0644u);
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
    struct stat old_st {};
    ASSERT_EQ(::fstat(old_fd.get(), &old_st), 0);
    EXPECT_EQ(old_st.st_nlink, 0u);  // unlinked, not left under the temp name
    char buf[8] = {};
    EXPECT_EQ(::pread(old_fd.get(), buf, sizeof buf, 0), 3);
    EXPECT_EQ(std::string(buf), "old");
    // No target yet: a plain rename.
    write_file_atomic_unsynced(dir.path() / "fresh", "x");
    EXPECT_EQ(read(dir.path() / "fresh"), "x");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 2);
}

// A target that is no regular file is never exchanged: a directory stays
// where it is (the rename's error), a symlink is replaced by the file and
// what it pointed to is untouched — as rename(2) does.
TEST(AtomicFile, UnsyncedReplaceOfADirectoryOrSymlinkIsARename) {
    auto dir = TempDir::create(fs::temp_directory_path(), "atomic-file-test-");
    fs::create_directory(dir.path() / "d");
    EXPECT_THROW(write_file_atomic_unsynced(dir.path() / "d", "x"), Error);
    EXPECT_TRUE(fs::is_directory(dir.path() / "d"));
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
    write_file_atomic(dir.path() / "pointee", "kept");
    fs::create_symlink("pointee", dir.path() / "link");
    write_file_atomic_unsynced(dir.path() / "link", "file");
    EXPECT_FALSE(fs::is_symlink(dir.path() / "link"));
    EXPECT_EQ(read(dir.path() / "link"), "file");
    EXPECT_EQ(read(dir.path() / "pointee"), "kept");
}

TEST(AtomicFile, ABareNameIsWrittenInTheWorkingDirectory) {
    auto dir = TempDir::create(fs::temp_directory_path(), "atomic-file-test-");
    const fs::path old_cwd = fs::current_path();
    fs::current_path(dir.path());
    try {
        write_file_atomic("bare", "x");
    } catch (...) {
        fs::current_path(old_cwd);
        throw;
    }
    fs::current_path(old_cwd);
    EXPECT_EQ(read(dir.path() / "bare"), "x");
}

TEST(AtomicFile, AMissingDirectoryIsNamedInTheError) {
    try {
        AtomicFile f("/nonexistent-strata-dir/file");
        FAIL() << "created a temp file in a missing directory";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent-strata-dir/.file.tmp"),
                  std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace strata
