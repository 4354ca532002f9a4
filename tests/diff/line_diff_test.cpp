#include "diff/line_diff.hpp"

#include <gtest/gtest.h>

namespace strata::diff {
namespace {

TEST(LineDiff, EqualTextsGiveNothing) {
    EXPECT_EQ(unified_diff("a\nb\n", "a\nb\n"), "");
}

TEST(LineDiff, OneChangedLineWithContext) {
    EXPECT_EQ(unified_diff("1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\nX\n6\n7\n8\n"),
              "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n");
}

TEST(LineDiff, DistantChangesAreSeparateHunks) {
    std::string a, b;
    for (int i = 1; i <= 20; ++i) {
        a += std::to_string(i) + "\n";
        b += (i == 2 || i == 18 ? "x" : std::to_string(i)) + "\n";
    }
    EXPECT_EQ(unified_diff(a, b),
              "@@ -1,5 +1,5 @@\n 1\n-2\n+x\n 3\n 4\n 5\n"
              "@@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+x\n 19\n 20\n");
}

TEST(LineDiff, InsertionsDeletionsAndEmptySides) {
    EXPECT_EQ(unified_diff("", "a\n"), "@@ -0,0 +1 @@\n+a\n");
    EXPECT_EQ(unified_diff("a\n", ""), "@@ -1 +0,0 @@\n-a\n");
    EXPECT_EQ(unified_diff("a\nc\n", "a\nb\nc\n"), "@@ -1,2 +1,3 @@\n a\n+b\n c\n");
}

TEST(LineDiff, MissingNewlineAtEnd) {
    EXPECT_EQ(unified_diff("a\nb", "a\nb\n"),
              "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
}

TEST(LineDiff, TooManyEditsShowsAWholeReplacement) {
    EXPECT_EQ(unified_diff("a\nb\n", "c\nd\n", 3, 1), "@@ -1,2 +1,2 @@\n-a\n-b\n+c\n+d\n");
}

}  // namespace
}  // namespace strata::diff
