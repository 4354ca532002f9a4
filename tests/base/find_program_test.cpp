#include "base/find_program.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "base/temp_dir.hpp"

namespace strata {
namespace {

namespace fs = std::filesystem;

// Sets $PATH for one test, and puts it back.
class PathGuard {
  public:
    explicit PathGuard(const std::string& value) {
        if (const char* p = std::getenv("PATH")) old_ = p;
        ::setenv("PATH", value.c_str(), 1);
    }
    ~PathGuard() { ::setenv("PATH", old_.c_str(), 1); }

  private:
    std::string old_;
};

void make_file(const fs::path& p, mode_t mode) {
    std::ofstream(p) << "#!/bin/sh\n";
    ::chmod(p.c_str(), mode);
}

TEST(FindProgram, FirstExecutableOnPathWins) {
    TempDir a = TempDir::create(fs::temp_directory_path(), "strata-path-a-");
    TempDir b = TempDir::create(fs::temp_directory_path(), "strata-path-b-");
    make_file(a.path() / "strata-tool", 0644);  // not executable: passed over
    make_file(b.path() / "strata-tool", 0755);
    PathGuard guard(a.path().string() + "::" + b.path().string());
    EXPECT_EQ(find_program("strata-tool"), b.path() / "strata-tool");
}

TEST(FindProgram, SystemDirectoriesAfterPathAndNothingWhenMissing) {
    PathGuard guard("/nonexistent-dir");
    ASSERT_TRUE(find_program("sh").has_value());  // /usr/bin or /bin, not on $PATH
    EXPECT_FALSE(find_program("strata-no-such-tool-anywhere").has_value());
}

}  // namespace
}  // namespace strata
