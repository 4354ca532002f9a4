// src/base RAII helpers: UniqueFd, TempDir, AtomicFile, LockFile.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/lock_file.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "store/layer_fixture.hpp"

namespace fs = std::filesystem;
using namespace strata;
using strata::store::testing::read_file;
using strata::store::testing::scratch;

namespace {

bool fd_open(int fd) {
    return ::fcntl(fd, F_GETFD) != -1;
}

TEST(UniqueFd, ClosesOnDestructionAndMove) {
    int raw = ::open("/dev/null", O_RDONLY);
    ASSERT_GE(raw, 0);
    {
        UniqueFd a(raw);
        EXPECT_TRUE(a);
        UniqueFd b(std::move(a));
        EXPECT_FALSE(a);
        EXPECT_EQ(b.get(), raw);
        EXPECT_TRUE(fd_open(raw));
    }
    EXPECT_FALSE(fd_open(raw));
}

TEST(UniqueFd, ReleaseGivesUpOwnership) {
    int raw = ::open("/dev/null", O_RDONLY);
    {
        UniqueFd a(raw);
        EXPECT_EQ(a.release(), raw);
    }
    EXPECT_TRUE(fd_open(raw));
    ::close(raw);
}

TEST(TempDir, RemovedWithContentUnlessKept) {
    fs::path p, kept;
    {
        auto t = TempDir::create(fs::temp_directory_path(), "strata-base-");
        p = t.path();
        fs::create_directories(p / "a" / "b");
        store::testing::write_file(p / "a" / "b" / "f", "x");
        ::chmod((p / "a").c_str(), 0555);  // read-only dirs must not block removal
        EXPECT_TRUE(fs::exists(p / "a" / "b" / "f"));
    }
    EXPECT_FALSE(fs::exists(p));
    {
        auto t = TempDir::create(fs::temp_directory_path(), "strata-base-");
        kept = t.path();
        t.keep();
    }
    EXPECT_TRUE(fs::exists(kept));
    remove_tree(kept);
    EXPECT_FALSE(fs::exists(kept));
}

TEST(TempDir, MissingParentIsASystemError) {
    try {
        TempDir::create("/nonexistent-strata-dir", "x-");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kSystem);
        EXPECT_NE(std::string(e.what()).find("/nonexistent-strata-dir"), std::string::npos);
    }
}

TEST(AtomicFile, ReplacesWholeOrNothing) {
    auto dir = scratch();
    auto target = dir.path() / "config.json";
    write_file_atomic(target, "old");
    {
        AtomicFile f(target, 0600);
        f.write("new content");
        // Before commit the target still holds the old data.
        EXPECT_EQ(read_file(target), "old");
        f.commit();
    }
    EXPECT_EQ(read_file(target), "new content");
    struct stat st {};
    ASSERT_EQ(::stat(target.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    {
        AtomicFile f(target);
        f.write("abandoned");
    }
    EXPECT_EQ(read_file(target), "new content");
    // No temp files are left behind either way.
    int n = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(dir.path()))
        ++n;
    EXPECT_EQ(n, 1);
}

TEST(LockFile, ExclusiveExcludesOtherProcessesUntilReleased) {
    auto dir = scratch();
    auto path = dir.path() / "lock";
    auto held = std::make_optional(LockFile::exclusive(path));
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // Child: a non-blocking try must fail while the parent holds it.
        auto got = LockFile::try_exclusive(path);
        ::_exit(got ? 1 : 0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child acquired a held lock";
    EXPECT_FALSE(LockFile::try_exclusive(path).has_value());  // also within one process
    held.reset();
    EXPECT_TRUE(LockFile::try_exclusive(path).has_value());
}

TEST(LockFile, SharedLocksCoexistButExcludeWriters) {
    auto dir = scratch();
    auto path = dir.path() / "lock";
    auto a = LockFile::shared(path);
    auto b = LockFile::shared(path);
    EXPECT_FALSE(LockFile::try_exclusive(path).has_value());
}

}  // namespace
