// Path pieces for COPY/ADD sources (executor/copy/path_parts.hpp): components
// and BuildKit's wildcard splitting. Go's Clean/Base/Match are tested in
// tests/base/go_path_test.cpp, the destination rule in
// tests/planner/copy_dest_test.cpp.
#include "executor/copy/path_parts.hpp"

#include <gtest/gtest.h>

namespace strata::executor {
namespace {

TEST(PathParts, ComponentsAndBack) {
    EXPECT_EQ(split_path("/a//b/./c/"), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(split_path("a/../b"), (std::vector<std::string>{"a", "..", "b"}));
    EXPECT_TRUE(split_path("/").empty());
    EXPECT_EQ(join_abs({}), "/");
    EXPECT_EQ(join_abs({"a", "b"}), "/a/b");
}

TEST(PathParts, WildcardDetectionAndSplit) {
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

}  // namespace
}  // namespace strata::executor
