// AtomicFile: the temp file's name and place, commit, abandon, and a target
// given without a directory (the temp file goes next to it, in the cwd).
#include "base/atomic_file.hpp"

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
