#include "containers/container_log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "base/temp_dir.hpp"

namespace strata::containers {
namespace {

namespace fs = std::filesystem;

std::vector<LogEntry> all(const fs::path& f) {
    return tail_log(f, std::nullopt);
}

TEST(ContainerLog, WritesOneEntryPerLineAndKeepsStreamsApart) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "strata-log-");
    const fs::path f = dir.path() / "container.log";
    {
        LogWriter w(f);
        w.write("hello\nwor", false);
        w.write("oops\n", true);
        w.write("ld\nunfinished", false);
    }  // the destructor flushes the unfinished line
    const auto e = all(f);
    ASSERT_EQ(e.size(), 4u);
    EXPECT_EQ(e[0].log, "hello\n");
    EXPECT_FALSE(e[0].is_stderr);
    EXPECT_EQ(e[1].log, "oops\n");
    EXPECT_TRUE(e[1].is_stderr);
    EXPECT_EQ(e[2].log, "world\n");
    EXPECT_EQ(e[3].log, "unfinished");  // no newline: as Docker writes a partial line
    EXPECT_EQ(e[0].time.back(), 'Z');
}

TEST(ContainerLog, SplitsLongLinesAt16KiB) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "strata-log-");
    const fs::path f = dir.path() / "container.log";
    {
        LogWriter w(f);
        w.write(std::string(40 * 1024, 'x') + "\n", false);
    }
    const auto e = all(f);
    ASSERT_EQ(e.size(), 3u);
    EXPECT_EQ(e[0].log.size(), 16u * 1024);
    EXPECT_EQ(e[2].log.size(), 8u * 1024 + 1);
}

TEST(ContainerLog, BinaryBytesDoNotBreakTheLog) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "strata-log-");
    const fs::path f = dir.path() / "container.log";
    {
        LogWriter w(f);
        w.write(std::string("\xff\xfe bad utf8\n", 12), false);
        w.write("next\n", false);
    }
    const auto e = all(f);
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[1].log, "next\n");
}

TEST(ContainerLog, TailAndFollowFromAnOffset) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "strata-log-");
    const fs::path f = dir.path() / "container.log";
    LogWriter w(f);
    for (int i = 0; i < 5; ++i)
        w.write("line " + std::to_string(i) + "\n", false);
    uint64_t end = 0;
    const auto last = tail_log(f, 2, &end);
    ASSERT_EQ(last.size(), 2u);
    EXPECT_EQ(last[0].log, "line 3\n");
    EXPECT_TRUE(tail_log(f, 0).empty());
    // A torn last line (a writer mid-way) is not read until it is complete.
    {
        std::ofstream out(f, std::ios::app);
        out << R"({"log":"half)";
    }
    std::vector<std::string> seen;
    uint64_t next = read_log(f, end, [&](const LogEntry& e) { seen.push_back(e.log); });
    EXPECT_TRUE(seen.empty());
    EXPECT_EQ(next, end);
    {
        std::ofstream out(f, std::ios::app);
        out << "\\n\",\"stream\":\"stderr\",\"time\":\"x\"}\n";
    }
    next = read_log(f, end, [&](const LogEntry& e) { seen.push_back(e.log); });
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0], "half\n");
    EXPECT_GT(next, end);
}

}  // namespace
}  // namespace strata::containers
