// The Go path semantics COPY's rules are written in: path.Clean, path.Base,
// filepath.Match, wildcard splitting and destination normalization.
#include "executor/copy/go_path.hpp"

#include <gtest/gtest.h>

namespace strata::executor {
namespace {

TEST(GoPath, CleanMatchesGo) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "."},           {"/", "/"},
        {"a/b/../c", "a/c"}, {"/../x", "/x"},
        {"../x", "../x"},    {"a/../../b", "../b"},
        {"//a//b/", "/a/b"}, {"./a/./b/.", "a/b"},
        {"a/..", "."},       {"/a/b/c/../../..", "/"},
    };
    for (const auto& [in, want] : cases)
        EXPECT_EQ(clean_path(in), want) << in;
}

TEST(GoPath, BaseMatchesGo) {
    EXPECT_EQ(base_name(""), ".");
    EXPECT_EQ(base_name("/"), "/");
    EXPECT_EQ(base_name("///"), "/");
    EXPECT_EQ(base_name("/a/b/"), "b");
    EXPECT_EQ(base_name("a"), "a");
    EXPECT_EQ(base_name("/x/file.tar.gz"), "file.tar.gz");
}

TEST(GoPath, MatchLikeFilepathMatch) {
    struct Case {
        std::string pattern, name;
        bool match;
        bool bad;
    };
    const std::vector<Case> cases = {
        {"*.txt", "a.txt", true, false},
        {"*.txt", "dir/a.txt", false, false},  // '*' does not cross '/'
        {"*/a.txt", "dir/a.txt", true, false},
        {"a?c", "abc", true, false},
        {"a?c", "a/c", false, false},
        {"[abc].go", "b.go", true, false},
        {"[^abc].go", "b.go", false, false},
        {"[^abc].go", "x.go", true, false},
        {"[a-c]x", "bx", true, false},
        {"[!a]x", "!x", true, false},  // Go negates with '^' only
        {"\\*", "*", true, false},
        {"\\*", "a", false, false},
        {"a*b*c", "axxbyyc", true, false},
        {"a*b*c", "axxbyy", false, false},
        {"héllo?", "héllow", true, false},
        {"h?llo", "héllo", true, false},  // '?' is one rune, not one byte
        {"[", "a", false, true},
        {"[a-", "a", false, true},
        {"[]a]", "a", false, true},
        {"a\\", "a", false, true},
        {"*", "", true, false},
    };
    for (const auto& c : cases) {
        bool bad = false;
        EXPECT_EQ(match_pattern(c.pattern, c.name, &bad), c.match) << c.pattern << " ~ " << c.name;
        EXPECT_EQ(bad, c.bad) << c.pattern;
    }
}

TEST(GoPath, WildcardDetectionAndSplit) {
    EXPECT_TRUE(contains_wildcards("a/*.txt"));
    EXPECT_TRUE(contains_wildcards("a[bc]"));
    EXPECT_TRUE(contains_wildcards("a?"));
    EXPECT_FALSE(contains_wildcards("a/b.txt"));
    EXPECT_FALSE(contains_wildcards("a\\*b"));  // escaped
    auto s = split_wildcards("/src/lib*/x/*.c");
    EXPECT_EQ(s.base, "/src");
    EXPECT_EQ(s.pattern, "lib*/x/*.c");
    s = split_wildcards("/*.txt");
    EXPECT_EQ(s.base, "/");
    EXPECT_EQ(s.pattern, "*.txt");
    s = split_wildcards("/plain/path");
    EXPECT_EQ(s.base, "/plain/path");
    EXPECT_EQ(s.pattern, "");
}

TEST(GoPath, NormalizeDestLikeBuildKit) {
    EXPECT_EQ(normalize_dest("/app", "."), "/app/");
    EXPECT_EQ(normalize_dest("/app", ""), "/app/");
    EXPECT_EQ(normalize_dest("/app", "./"), "/app/");
    EXPECT_EQ(normalize_dest("/app", "x"), "/app/x");
    EXPECT_EQ(normalize_dest("/app", "x/"), "/app/x/");
    EXPECT_EQ(normalize_dest("/app", "../etc/"), "/etc/");
    EXPECT_EQ(normalize_dest("/app", "/abs//y"), "/abs/y");
    EXPECT_EQ(normalize_dest("/app", "/y/."), "/y/.");
    EXPECT_EQ(normalize_dest("/", "/."), "/.");
    EXPECT_EQ(normalize_dest("/", "/"), "/");
    EXPECT_EQ(normalize_dest("", "rel"), "/rel");
    EXPECT_TRUE(dest_is_dir_syntax("/app/"));
    EXPECT_TRUE(dest_is_dir_syntax("/app/."));
    EXPECT_FALSE(dest_is_dir_syntax("/app"));
}

}  // namespace
}  // namespace strata::executor
