// The pattern matcher behind #, %, / on its own: Go's leftmost-first choice
// of match, escapes, bracket expressions, reversal for suffixes.
#include <gtest/gtest.h>

#include <string>

#include "frontend/shell_pattern.hpp"

using strata::frontend::shell_pattern::Pattern;
using strata::frontend::shell_pattern::PatternError;

namespace {

std::string prefix(std::string_view pat, std::string_view value, bool longest,
                   bool brackets = true) {
    return std::string(Pattern::compile(pat, brackets).trim_prefix(value, longest));
}

std::string suffix(std::string_view pat, std::string_view value, bool longest,
                   bool brackets = true) {
    return std::string(Pattern::compile(pat, brackets).trim_suffix(value, longest));
}

std::string replace(std::string_view pat, std::string_view value, std::string_view rep, bool all) {
    return Pattern::compile(pat, true).replace(value, rep, all);
}

TEST(ShellPattern, PrefixShortestAndLongest) {
    EXPECT_EQ(prefix("*/", "a/b/c", false), "b/c");
    EXPECT_EQ(prefix("*/", "a/b/c", true), "c");
    EXPECT_EQ(prefix("a", "abc", false), "bc");
    EXPECT_EQ(prefix("b", "abc", false), "abc");  // anchored at the start
    EXPECT_EQ(prefix("", "abc", true), "abc");
    EXPECT_EQ(prefix("*", "abc", false), "abc");
    EXPECT_EQ(prefix("*", "abc", true), "");
    EXPECT_EQ(prefix("?", "", false), "");
    EXPECT_EQ(prefix("*x*y", "xxyy", false), "y");
    EXPECT_EQ(prefix("*x*y", "xxyy", true), "");
}

TEST(ShellPattern, SuffixShortestAndLongest) {
    EXPECT_EQ(suffix("/*", "a/b/c", false), "a/b");
    EXPECT_EQ(suffix("/*", "a/b/c", true), "a");
    EXPECT_EQ(suffix("c", "abc", false), "ab");
    EXPECT_EQ(suffix("a", "abc", false), "abc");  // anchored at the end
    EXPECT_EQ(suffix("\\**", "xx**", true), "xx");
    EXPECT_EQ(suffix("\\**\\*", "a***yy*", true), "a");
    EXPECT_EQ(suffix("?", "añ", false), "a");  // characters, not bytes
}

TEST(ShellPattern, EscapesAndSpecialCharacters) {
    EXPECT_EQ(prefix("\\*", "*a", false), "a");
    EXPECT_EQ(prefix("\\?", "?a", false), "a");
    EXPECT_EQ(prefix("\\\\", "\\a", false), "a");
    EXPECT_EQ(prefix("\\}\\/", "}/a", false), "a");  // only there to stay inside ${...}
    EXPECT_EQ(prefix("().+|^${}", "().+|^${}a", false), "a");
    EXPECT_THROW(Pattern::compile("\\x", true), PatternError);
    EXPECT_THROW(Pattern::compile("a\\", true), PatternError);
    try {
        Pattern::compile("\\é", true);
        FAIL() << "no error";
    } catch (const PatternError& e) {
        EXPECT_EQ(e.what, "invalid escape '\\é'");
    }
}

TEST(ShellPattern, BracketExpressions) {
    EXPECT_EQ(prefix("[abc]", "bx", false), "x");
    EXPECT_EQ(prefix("[a-c]*", "cab-x", false), "ab-x");
    EXPECT_EQ(prefix("[!a-c]", "dx", false), "x");
    EXPECT_EQ(prefix("[^a-c]", "ax", false), "ax");
    EXPECT_EQ(prefix("[]]", "]x", false), "x");
    EXPECT_EQ(prefix("[!]]", "]x", false), "]x");
    EXPECT_EQ(prefix("[a-]", "-x", false), "x");
    EXPECT_EQ(prefix("[\\]]", "]x", false), "x");
    EXPECT_EQ(prefix("[[:upper:][:digit:]]*", "Q9x", true), "");
    EXPECT_EQ(prefix("[[:space:]]", "\tx", false), "x");
    EXPECT_EQ(prefix("[[:alpha:]]", "1x", false), "1x");
    EXPECT_EQ(prefix("[é-ë]", "êx", false), "x");
    EXPECT_EQ(prefix("[!a]", "\nx", false), "x");           // classes may match a newline
    EXPECT_EQ(prefix("[ab", "[abc", false), "c");           // unterminated: literal '['
    EXPECT_EQ(prefix("[ab]", "[ab]c", false, false), "c");  // BuildKit: no brackets
    EXPECT_THROW(Pattern::compile("\\[", false), PatternError);
}

TEST(ShellPattern, ReplaceFollowsGoReplaceAll) {
    EXPECT_EQ(replace("o", "foo", "0", false), "f0o");
    EXPECT_EQ(replace("o", "foo", "0", true), "f00");
    EXPECT_EQ(replace("", "ab", "-", false), "-ab");
    EXPECT_EQ(replace("", "ab", "-", true), "-a-b-");
    EXPECT_EQ(replace("*", "ab", "-", true), "-");
    EXPECT_EQ(replace("b*", "abcb", "-", true), "a-");  // greedy
    EXPECT_EQ(replace("?", "añb", ".", true), "...");
    EXPECT_EQ(replace("x", "axbx", "[$0]", true), "a[x]b[x]");
    EXPECT_EQ(replace("x", "axbx", "[${0}|$1|$name|$$|${x|$]", true),
              "a[x|||$|${x|$]b[x|||$|${x|$]");
    EXPECT_EQ(replace("x", "axbx", "[$0]", false), "a[$0]bx");
}

TEST(ShellPattern, NewlinesStopWildcards) {
    EXPECT_EQ(prefix("*", "a\nb", true), "\nb");
    EXPECT_EQ(prefix("a?b", "a\nb", true), "a\nb");
    EXPECT_EQ(suffix("*", "a\nb", true), "a\n");
    EXPECT_EQ(replace("*", "a\nb", "-", true), "-\n-");
}

}  // namespace
