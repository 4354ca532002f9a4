// Names that say which process made a thing (base/owner_name.hpp): this
// process's prefix, parsing, and the sweep of directories whose maker is
// gone — never a live maker's, a symbolic link, a file or another user's.
#include "base/owner_name.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "base/process_ref.hpp"
#include "base/temp_dir.hpp"

namespace strata {
namespace {

namespace fs = std::filesystem;

// The pid and start time of a process that has ended.
OwnerName gone_process() {
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::pause();
        _exit(0);
    }
    OwnerName o{pid, process_start_time(pid).value_or(0)};
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return o;
}

std::string name_of(std::string_view prefix, const OwnerName& o, std::string_view rest) {
    return std::string(prefix) + std::to_string(o.pid) + "-" + std::to_string(o.start_time) + "-" +
           std::string(rest);
}

TEST(OwnerName, OwnPrefixNamesThisProcess) {
    const std::string p = own_name_prefix("strata-copy-");
    const auto o = parse_owner_name(p + "AbC123", "strata-copy-");
    ASSERT_TRUE(o);
    EXPECT_EQ(o->pid, ::getpid());
    EXPECT_EQ(o->start_time, process_start_time(::getpid()).value_or(1));
    EXPECT_FALSE(owner_gone(*o));
}

TEST(OwnerName, ParseRefusesOtherNames) {
    EXPECT_FALSE(parse_owner_name("strata-copy-AbC123", "strata-copy-"));  // no owner (old name)
    EXPECT_FALSE(parse_owner_name("strata-copy-12-x-a", "strata-copy-"));
    EXPECT_FALSE(parse_owner_name("strata-copy-0-5-a", "strata-copy-"));
    EXPECT_FALSE(parse_owner_name("strata-12-5-a", "strata-copy-"));
    EXPECT_FALSE(parse_owner_name("strata-copy-12-5", "strata-copy-"));
    const auto o = parse_owner_name("strata-copy-12-5-a-b", "strata-copy-");
    ASSERT_TRUE(o);
    EXPECT_EQ(o->pid, 12);
    EXPECT_EQ(o->start_time, 5u);
}

TEST(OwnerName, OnlyDirectoriesOfGoneMakersThatAreOursAreRemoved) {
    TempDir parent = TempDir::create(fs::temp_directory_path(), "owner-name-test-");
    const std::string prefix = "strata-copy-";
    const OwnerName gone = gone_process();
    ASSERT_TRUE(owner_gone(gone));
    const OwnerName alive{::getpid(), process_start_time(::getpid()).value_or(0)};
    const fs::path left = parent.path() / name_of(prefix, gone, "left");
    fs::create_directories(left / "tree" / "deeper");
    std::ofstream(left / "tree" / "file") << "x";
    const fs::path running = parent.path() / name_of(prefix, alive, "running");
    fs::create_directory(running);
    fs::permissions(running, fs::perms::owner_all);
    fs::permissions(left, fs::perms::owner_all);
    // Not private (group and others may enter): not a directory strata made.
    const fs::path open_dir = parent.path() / name_of(prefix, gone, "open");
    fs::create_directory(open_dir);
    fs::permissions(open_dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
    const fs::path target = parent.path() / "not-ours-to-remove";
    fs::create_directory(target);
    std::ofstream(target / "kept") << "x";
    const fs::path link = parent.path() / name_of(prefix, gone, "link");
    fs::create_directory_symlink(target, link);
    const fs::path file = parent.path() / name_of(prefix, gone, "file");
    std::ofstream(file) << "x";
    const fs::path other_prefix = parent.path() / name_of("strata-", gone, "cgroup-like");
    fs::create_directory(other_prefix);
    fs::path someone_elses;
    if (::geteuid() == 0) {  // a directory another user made
        someone_elses = parent.path() / name_of(prefix, gone, "nobody");
        fs::create_directory(someone_elses);
        fs::permissions(someone_elses, fs::perms::owner_all);  // private, as ours are
        ASSERT_EQ(::chown(someone_elses.c_str(), 65534, 65534), 0);
    }

    EXPECT_EQ(remove_dirs_of_gone_owners(parent.path(), prefix), 1u);
    EXPECT_FALSE(fs::exists(left));
    EXPECT_TRUE(fs::exists(running));
    EXPECT_TRUE(fs::is_symlink(link));
    EXPECT_TRUE(fs::exists(target / "kept"));
    EXPECT_TRUE(fs::exists(file));
    EXPECT_TRUE(fs::exists(other_prefix));
    EXPECT_TRUE(fs::exists(open_dir));
    if (!someone_elses.empty()) {
        EXPECT_TRUE(fs::exists(someone_elses));
    }
}

}  // namespace
}  // namespace strata
