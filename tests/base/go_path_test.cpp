// Go's path.Clean, Base, Join and Match (base/go/path.hpp): the cases of Go's
// own path tests, and a bound on matching time for patterns that made the
// old backtracking matcher take seconds to minutes.
#include "base/go/path.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace strata::go::path {
namespace {

TEST(GoPath, CleanLikeGo) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        // Already clean.
        {"", "."},
        {"abc", "abc"},
        {"abc/def", "abc/def"},
        {"a/b/c", "a/b/c"},
        {".", "."},
        {"..", ".."},
        {"../..", "../.."},
        {"../../abc", "../../abc"},
        {"/abc", "/abc"},
        {"/", "/"},
        // Trailing slashes, doubled slashes.
        {"abc/", "abc"},
        {"abc/def/", "abc/def"},
        {"a/b/c/", "a/b/c"},
        {"./", "."},
        {"../", ".."},
        {"../../", "../.."},
        {"/abc/", "/abc"},
        {"abc//def//ghi", "abc/def/ghi"},
        {"//abc", "/abc"},
        {"///abc", "/abc"},
        {"//abc//", "/abc"},
        {"abc//", "abc"},
        // "." and "..".
        {"abc/./def", "abc/def"},
        {"/./abc/def", "/abc/def"},
        {"abc/.", "abc"},
        {"abc/def/ghi/../jkl", "abc/def/jkl"},
        {"abc/def/../ghi/../jkl", "abc/jkl"},
        {"abc/def/..", "abc"},
        {"abc/def/../..", "."},
        {"/abc/def/../..", "/"},
        {"abc/def/../../..", ".."},
        {"/abc/def/../../..", "/"},
        {"abc/def/../../../ghi/jkl/../../../mno", "../../mno"},
        {"/../abc", "/abc"},
        {"abc/./../def", "def"},
        {"abc//./../def", "def"},
        {"abc/../../././../def", "../../def"},
        {"a/../../b", "../b"},
        {".../x", ".../x"},
        {"..a/.b/", "..a/.b"},
    };
    for (const auto& [in, want] : cases)
        EXPECT_EQ(clean(in), want) << in;
}

TEST(GoPath, BaseLikeGo) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "."},        {".", "."},       {"/.", "."},        {"/", "/"},
        {"////", "/"},    {"x/", "x"},      {"abc", "abc"},     {"abc/def", "def"},
        {"a/b/.x", ".x"}, {"a/b/c.", "c."}, {"a/b/c.x", "c.x"}, {"/x/file.tar.gz", "file.tar.gz"},
    };
    for (const auto& [in, want] : cases)
        EXPECT_EQ(base(in), want) << in;
}

TEST(GoPath, JoinLikeGo) {
    EXPECT_EQ(join("", ""), "");
    EXPECT_EQ(join("a", ""), "a");
    EXPECT_EQ(join("", "b"), "b");
    EXPECT_EQ(join("a", "b"), "a/b");
    EXPECT_EQ(join("a/", "b"), "a/b");
    EXPECT_EQ(join("/", "a"), "/a");
    EXPECT_EQ(join("/w", "../../x/"), "/x");
    EXPECT_EQ(join("/w", "."), "/w");
    EXPECT_EQ(join("/w", "/abs"), "/w/abs");  // Join does not treat b as absolute
}

struct MatchCase {
    std::string pattern, name;
    MatchResult want;
};

constexpr auto kYes = MatchResult::kMatch;
constexpr auto kNo = MatchResult::kNoMatch;
constexpr auto kBad = MatchResult::kBadPattern;

TEST(GoPath, MatchLikeGo) {
    // Go's path/match_test.go table (Go 1.16+, where a malformed pattern is
    // reported even when an earlier part fails to match).
    const std::vector<MatchCase> cases = {
        {"abc", "abc", kYes},
        {"*", "abc", kYes},
        {"*c", "abc", kYes},
        {"a*", "a", kYes},
        {"a*", "abc", kYes},
        {"a*", "ab/c", kNo},
        {"a*/b", "abc/b", kYes},
        {"a*/b", "a/c/b", kNo},
        {"a*b*c*d*e*/f", "axbxcxdxe/f", kYes},
        {"a*b*c*d*e*/f", "axbxcxdxexxx/f", kYes},
        {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", kNo},
        {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", kNo},
        {"a*b?c*x", "abxbbxdbxebxczzx", kYes},
        {"a*b?c*x", "abxbbxdbxebxczzy", kNo},
        {"ab[c]", "abc", kYes},
        {"ab[b-d]", "abc", kYes},
        {"ab[e-g]", "abc", kNo},
        {"ab[^c]", "abc", kNo},
        {"ab[^b-d]", "abc", kNo},
        {"ab[^e-g]", "abc", kYes},
        {"a\\*b", "a*b", kYes},
        {"a\\*b", "ab", kNo},
        {"a?b",
         "a\xE2\x98\xBA"
         "b",
         kYes},
        {"a[^a]b",
         "a\xE2\x98\xBA"
         "b",
         kYes},
        {"a???b",
         "a\xE2\x98\xBA"
         "b",
         kNo},
        {"a[^a][^a][^a]b",
         "a\xE2\x98\xBA"
         "b",
         kNo},
        {"[a-\xCE\xB6]*", "\xCE\xB1", kYes},  // [a-ζ]* ~ α
        {"*[a-\xCE\xB6]", "A", kNo},
        {"a?b", "a/b", kNo},
        {"a*b", "a/b", kNo},
        {"[\\]a]", "]", kYes},
        {"[\\-]", "-", kYes},
        {"[x\\-]", "x", kYes},
        {"[x\\-]", "-", kYes},
        {"[x\\-]", "z", kNo},
        {"[\\-x]", "x", kYes},
        {"[\\-x]", "-", kYes},
        {"[\\-x]", "a", kNo},
        {"[]a]", "]", kBad},
        {"[-]", "-", kBad},
        {"[x-]", "x", kBad},
        {"[x-]", "-", kBad},
        {"[x-]", "z", kBad},
        {"[-x]", "x", kBad},
        {"[-x]", "-", kBad},
        {"[-x]", "a", kBad},
        {"\\", "a", kBad},
        {"[a-b-c]", "a", kBad},
        {"[", "a", kBad},
        {"[^", "a", kBad},
        {"[^bc", "a", kBad},
        {"a[", "a", kBad},
        {"a[", "ab", kBad},
        {"a[", "x", kBad},
        {"a/b[", "x", kBad},
        {"*x", "xxx", kYes},
    };
    for (const auto& c : cases)
        EXPECT_EQ(match(c.pattern, c.name), c.want) << c.pattern << " ~ " << c.name;
}

TEST(GoPath, MatchDetails) {
    const std::vector<MatchCase> cases = {
        {"*", "", kYes},
        {"", "", kYes},
        {"", "a", kNo},
        {"*.txt", "dir/a.txt", kNo},  // '*' does not cross '/'
        {"*/a.txt", "dir/a.txt", kYes},
        {"[!a]x", "!x", kYes},            // Go negates with '^' only
        {"h?llo", "h\xC3\xA9llo", kYes},  // '?' is one character, not one byte
        {"a[/]b", "a/b", kYes},           // a class may match '/'
        {"[\xC3\xA9]", "\xC3\xA9", kYes},
        {"[\xFF]", "a", kBad},  // invalid UTF-8 in a class
        {"?", "\xFF", kYes},    // an invalid byte is one character
        {"[^a]", "\xFF", kYes},
        {"a*\\", "abc", kBad},
        {"x*[", "abc", kBad},  // the first chunk already fails
        {"*[", "", kBad},
        {"**a", "ba", kYes},  // stars collapse
        {"a*", "a/", kNo},
        // Go commits to the leftmost place where a chunk matches and never
        // revisits an earlier star: here "[^a]" takes the 'b' and the last
        // star cannot take the '/'. A backtracking matcher (strata's before)
        // would let the first star take "b" + "\xC3\xA9" and "[^a]" the '/'.
        {"*[^a]*", "b\xC3\xA9/", kNo},
        {"*[^a]", "b/", kYes},  // the last chunk must reach the end, so it moves on
    };
    for (const auto& c : cases)
        EXPECT_EQ(match(c.pattern, c.name), c.want) << c.pattern << " ~ " << c.name;
    EXPECT_TRUE(is_valid_pattern("a*[bc]?\\*"));
    EXPECT_TRUE(is_valid_pattern(""));
    EXPECT_FALSE(is_valid_pattern("ok*[x-]"));
    EXPECT_FALSE(is_valid_pattern("a\\"));
}

// Patterns with many stars over a long name: with backtracking into earlier
// stars these take time exponential in the number of stars (seven "*a" and a
// "*b" over 60 bytes took ~2 s, nine stars ~85 s). Chunk-by-chunk matching
// is O(len(pattern) * len(name)): well under a millisecond each here. The
// bound is generous so that a slow machine does not fail the test, while the
// old matcher could not finish within it.
TEST(GoPath, PathologicalPatternsFinishQuickly) {
    const std::string name(10000, 'a');
    std::string many_a;
    for (int i = 0; i < 40; ++i)
        many_a += "*a";
    const std::vector<MatchCase> cases = {
        {"*a*a*a*a*a*a*a*b", name, kNo},
        {"*a*a*a*a*a*a*a*a*a*b", name, kNo},
        {many_a + "*b", name, kNo},
        {many_a, name, kYes},
        {many_a + "*[b-z]", name, kNo},
        {"*?*?*?*?*?*?*?*?*?*?*b", name, kNo},
        {"*a*a*a*a*a*a*a*b", name + "/b", kNo},
        {"*a*a*a*a*a*a*a*b", name + "b", kYes},
        {"a*a*a*a*a*a*a*a*a*a*", name, kYes},
        {"*aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", name, kNo},
    };
    const auto start = std::chrono::steady_clock::now();
    for (const auto& c : cases)
        EXPECT_EQ(match(c.pattern, c.name), c.want) << c.pattern;
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::seconds(1))
        << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
}

}  // namespace
}  // namespace strata::go::path
